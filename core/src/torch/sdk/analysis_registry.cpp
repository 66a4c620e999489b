#include <algorithm>

#include <fmt/format.h>

#include "headscope/sdk/analysis.hpp"

namespace headscope {

namespace {
bool valid_id(const std::string& id) {
    if (id.empty() || id.size() > 64) return false;
    return std::all_of(id.begin(), id.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}
}  // namespace

void AnalysisRegistry::add(AnalysisFactory factory, const std::string& origin) {
    if (!factory) throw UsageError("AnalysisRegistry::add: empty factory");
    std::unique_ptr<Analysis> sample = factory();
    if (!sample) throw UsageError("AnalysisRegistry::add: the factory returned no analysis");
    AnalysisInfo info;
    info.id = sample->id();
    if (!valid_id(info.id))
        throw UsageError(fmt::format("analysis id '{}' is invalid: use 1-64 characters a-z, 0-9 and _", info.id));
    if (entries_.count(info.id))
        throw UsageError(fmt::format("analysis '{}' is registered twice (first by {}, now by {})", info.id,
                                     entries_.at(info.id).info.origin, current_origin_.empty() ? origin : current_origin_));
    info.title = sample->title();
    info.version = sample->version();
    info.description = sample->description();
    info.parameters = sample->parameters();
    info.needs_prompts = sample->needs_prompts();
    info.origin = current_origin_.empty() ? origin : current_origin_;
    // The declared defaults must be valid.
    ParamValues check(info.id, info.parameters, {});
    for (const auto& spec : info.parameters) ParamValues(info.id, info.parameters, {{spec.name, spec.default_value}});
    std::string key = info.id;  // not info.id itself: the Entry argument moves info first
    entries_.emplace(std::move(key), Entry{std::move(info), std::move(factory)});
}

void AnalysisRegistry::merge(AnalysisRegistry&& other) {
    for (const auto& [id, e] : other.entries_)
        if (entries_.count(id))
            throw UsageError(fmt::format("analysis '{}' is already registered by {}", id, entries_.at(id).info.origin));
    for (auto& [id, e] : other.entries_) entries_.emplace(id, std::move(e));
    other.entries_.clear();
}

std::vector<AnalysisInfo> AnalysisRegistry::list() const {
    std::vector<AnalysisInfo> out;
    for (const auto& [id, e] : entries_) out.push_back(e.info);
    return out;
}

bool AnalysisRegistry::contains(const std::string& id) const { return entries_.count(id) != 0; }

const AnalysisInfo& AnalysisRegistry::info(const std::string& id) const {
    auto it = entries_.find(id);
    if (it == entries_.end()) {
        std::vector<std::string> known;
        for (const auto& [k, e] : entries_) known.push_back(k);
        throw UsageError(fmt::format("unknown analysis '{}' (known: {})", id,
                                     known.empty() ? "none" : fmt::format("{}", fmt::join(known, ", "))));
    }
    return it->second.info;
}

std::unique_ptr<Analysis> AnalysisRegistry::create(const std::string& id) const {
    info(id);  // throws for unknown ids
    return entries_.at(id).factory();
}

}  // namespace headscope
