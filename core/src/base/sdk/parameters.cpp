#include "headscope/sdk/parameters.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

#include "headscope/error.hpp"

namespace headscope {

const char* to_string(ParamType t) {
    switch (t) {
        case ParamType::integer: return "integer";
        case ParamType::real: return "real";
        case ParamType::boolean: return "boolean";
        case ParamType::text: return "text";
        case ParamType::choice: return "choice";
        case ParamType::heads: return "heads";
    }
    return "?";
}

ParamSpec ParamSpec::integer(std::string name, int64_t default_value, std::string help, double min, double max) {
    return ParamSpec{std::move(name), ParamType::integer, std::to_string(default_value), std::move(help), {}, min, max};
}

ParamSpec ParamSpec::real(std::string name, double default_value, std::string help, double min, double max) {
    return ParamSpec{std::move(name), ParamType::real, fmt::format("{}", default_value), std::move(help), {}, min, max};
}

ParamSpec ParamSpec::boolean(std::string name, bool default_value, std::string help) {
    return ParamSpec{std::move(name), ParamType::boolean, default_value ? "true" : "false", std::move(help), {}};
}

ParamSpec ParamSpec::text(std::string name, std::string default_value, std::string help) {
    return ParamSpec{std::move(name), ParamType::text, std::move(default_value), std::move(help), {}};
}

ParamSpec ParamSpec::choice(std::string name, std::string default_value, std::vector<std::string> choices,
                            std::string help) {
    return ParamSpec{std::move(name), ParamType::choice, std::move(default_value), std::move(help), std::move(choices)};
}

ParamSpec ParamSpec::heads(std::string name, std::string default_value, std::string help) {
    return ParamSpec{std::move(name), ParamType::heads, std::move(default_value), std::move(help), {}};
}

namespace {

bool parse_int(const std::string& s, int64_t& out) {
    if (s.empty()) return false;
    errno = 0;
    char* end = nullptr;
    long long v = std::strtoll(s.c_str(), &end, 10);
    if (errno != 0 || *end != '\0') return false;
    out = v;
    return true;
}

bool parse_real(const std::string& s, double& out) {
    if (s.empty()) return false;
    errno = 0;
    char* end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    if (errno != 0 || *end != '\0' || !std::isfinite(v)) return false;
    out = v;
    return true;
}

bool parse_bool(const std::string& s, bool& out) {
    if (s == "true" || s == "1" || s == "yes" || s == "on") return out = true, true;
    if (s == "false" || s == "0" || s == "no" || s == "off") return out = false, true;
    return false;
}

void validate(const std::string& analysis, const ParamSpec& spec, const std::string& value) {
    auto fail = [&](const std::string& why) {
        throw UsageError(fmt::format("{}.{}: '{}' is not valid: {}", analysis, spec.name, value, why));
    };
    switch (spec.type) {
        case ParamType::integer: {
            int64_t v;
            if (!parse_int(value, v)) fail("expected an integer");
            if (v < spec.min || v > spec.max) fail(fmt::format("expected a value in [{}, {}]", spec.min, spec.max));
            break;
        }
        case ParamType::real: {
            double v;
            if (!parse_real(value, v)) fail("expected a number");
            if (v < spec.min || v > spec.max) fail(fmt::format("expected a value in [{}, {}]", spec.min, spec.max));
            break;
        }
        case ParamType::boolean: {
            bool b;
            if (!parse_bool(value, b)) fail("expected true or false");
            break;
        }
        case ParamType::choice: {
            bool ok = false;
            for (const auto& c : spec.choices) ok |= c == value;
            if (!ok) fail(fmt::format("expected one of: {}", fmt::join(spec.choices, ", ")));
            break;
        }
        case ParamType::heads:
            try {
                parse_heads(value);
            } catch (const UsageError& e) {
                fail(e.what());
            }
            break;
        case ParamType::text: break;
    }
}

}  // namespace

ParamValues::ParamValues(const std::string& analysis_id, const std::vector<ParamSpec>& specs,
                         const std::map<std::string, std::string>& overrides)
    : analysis_(analysis_id) {
    for (const auto& spec : specs) values_[spec.name] = spec.default_value;
    for (const auto& [name, value] : overrides) {
        const ParamSpec* spec = nullptr;
        for (const auto& s : specs)
            if (s.name == name) spec = &s;
        if (!spec) {
            std::vector<std::string> known;
            for (const auto& s : specs) known.push_back(s.name);
            throw UsageError(fmt::format("{} has no parameter '{}' (its parameters: {})", analysis_id, name,
                                         known.empty() ? "none" : fmt::format("{}", fmt::join(known, ", "))));
        }
        validate(analysis_id, *spec, value);
        values_[name] = value;
    }
}

const std::string& ParamValues::raw(const std::string& name) const {
    auto it = values_.find(name);
    if (it == values_.end()) throw UsageError(fmt::format("{}: no parameter '{}' declared", analysis_, name));
    return it->second;
}

int64_t ParamValues::get_int(const std::string& name) const {
    int64_t v;
    if (!parse_int(raw(name), v)) throw UsageError(fmt::format("{}.{}: '{}' is not an integer", analysis_, name, raw(name)));
    return v;
}

double ParamValues::get_real(const std::string& name) const {
    double v;
    if (!parse_real(raw(name), v)) throw UsageError(fmt::format("{}.{}: '{}' is not a number", analysis_, name, raw(name)));
    return v;
}

bool ParamValues::get_bool(const std::string& name) const {
    bool v;
    if (!parse_bool(raw(name), v)) throw UsageError(fmt::format("{}.{}: '{}' is not true/false", analysis_, name, raw(name)));
    return v;
}

const std::string& ParamValues::get_text(const std::string& name) const { return raw(name); }

std::vector<HeadRef> ParamValues::get_heads(const std::string& name) const { return parse_heads(raw(name)); }

}  // namespace headscope
