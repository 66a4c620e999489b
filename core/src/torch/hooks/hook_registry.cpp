#include <torch/torch.h>

#include <algorithm>

#include "headscope/error.hpp"
#include "headscope/hooks.hpp"

namespace headscope {

HookHandle::HookHandle(std::weak_ptr<HookRegistry> registry, std::vector<uint64_t> ids)
    : registry_(std::move(registry)), ids_(std::move(ids)) {}

HookHandle::~HookHandle() { remove(); }

HookHandle::HookHandle(HookHandle&& other) noexcept
    : registry_(std::move(other.registry_)), ids_(std::move(other.ids_)) {
    other.ids_.clear();
}

HookHandle& HookHandle::operator=(HookHandle&& other) noexcept {
    if (this != &other) {
        remove();
        registry_ = std::move(other.registry_);
        ids_ = std::move(other.ids_);
        other.ids_.clear();
    }
    return *this;
}

void HookHandle::remove() {
    if (ids_.empty()) return;
    if (auto registry = registry_.lock()) registry->remove(ids_);
    ids_.clear();
}

HookRegistry::HookRegistry(int n_layers, const std::vector<HookKey>& points) {
    slots_.assign(static_cast<size_t>(kHookSiteCount) * (static_cast<size_t>(n_layers) + 1), -1);
    for (const auto& key : points) {
        size_t index = key.layer < 0 ? static_cast<size_t>(key.site)
                                     : static_cast<size_t>(kHookSiteCount) * (static_cast<size_t>(key.layer) + 1) +
                                           static_cast<size_t>(key.site);
        slots_.at(index) = static_cast<int>(points_.size());
        points_.push_back(HookPoint{key, hook_name(key)});
    }
    hooks_.resize(points_.size());
}

std::vector<std::string> HookRegistry::resolve(const std::string& name_or_glob) const {
    std::vector<std::string> out;
    for (const auto& p : points_)
        if (glob_match(name_or_glob, p.name)) out.push_back(p.name);
    return out;
}

std::vector<uint64_t> HookRegistry::add(const std::string& name_or_glob, HookFn fn) {
    if (!fn) throw UsageError("hook for '" + name_or_glob + "' has no function");
    std::vector<uint64_t> ids;
    for (size_t i = 0; i < points_.size(); ++i) {
        if (!glob_match(name_or_glob, points_[i].name)) continue;
        uint64_t id = next_id_++;
        hooks_[i].push_back(Entry{id, fn});
        ids.push_back(id);
    }
    if (ids.empty()) {
        std::string hint;
        if (auto key = parse_hook_name(name_or_glob))
            hint = " (this model has no such site: e.g. hook_rot_q needs rotary positions, hook_resid_mid "
                   "a sequential residual, or the layer index is out of range)";
        else
            hint = " (names look like 'blocks.0.attn.hook_pattern'; globs like 'blocks.*.hook_resid_post')";
        throw UsageError("no hook point matches '" + name_or_glob + "'" + hint);
    }
    return ids;
}

void HookRegistry::remove(const std::vector<uint64_t>& ids) {
    for (auto& list : hooks_) {
        list.erase(std::remove_if(list.begin(), list.end(),
                                  [&](const Entry& e) { return std::find(ids.begin(), ids.end(), e.id) != ids.end(); }),
                   list.end());
    }
}

void HookRegistry::remove_added_since(uint64_t mark) {
    for (auto& list : hooks_)
        list.erase(std::remove_if(list.begin(), list.end(), [&](const Entry& e) { return e.id >= mark; }), list.end());
}

void HookRegistry::clear() {
    for (auto& list : hooks_) list.clear();
}

size_t HookRegistry::hook_count() const {
    size_t n = 0;
    for (const auto& list : hooks_) n += list.size();
    return n;
}

at::Tensor HookRegistry::run(size_t slot, at::Tensor activation) const {
    const HookPoint& point = points_[slot];
    // Copy the list: a hook may add or remove hooks while it runs.
    const std::vector<Entry> entries = hooks_[slot];
    for (const auto& e : entries) {
        std::optional<at::Tensor> replacement = e.fn(activation, point);
        if (!replacement || !replacement->defined() || replacement->is_same(activation)) continue;
        if (replacement->sizes() != activation.sizes()) {
            throw UsageError("hook at " + point.name + " returned shape " + c10::str(replacement->sizes()) +
                             " but the activation has shape " + c10::str(activation.sizes()));
        }
        activation = replacement->to(activation.device(), activation.scalar_type());
    }
    return activation;
}

}  // namespace headscope
