// Hooks: functions that see an activation at a hook point and may return a replacement.
// Handles are RAII: a hook lives exactly as long as its HookHandle (or HookScope).
#pragma once

#include <ATen/core/Tensor.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "headscope/hook_names.hpp"

namespace headscope {

struct HookPoint {
    HookKey key;
    std::string name;  // hook_name(key), rendered once
};

// Return std::nullopt (or the same tensor) to leave the activation as it is, or a tensor of the
// same shape to replace it.
using HookFn = std::function<std::optional<at::Tensor>(const at::Tensor& activation, const HookPoint& point)>;

struct NamedHook {
    std::string name_or_glob;  // "blocks.0.attn.hook_pattern" or "blocks.*.attn.hook_pattern"
    HookFn fn;
};

class HookRegistry;

// Removes its hooks when destroyed (or on remove()). Safe to outlive the model.
class HookHandle {
public:
    HookHandle() = default;
    HookHandle(std::weak_ptr<HookRegistry> registry, std::vector<uint64_t> ids);
    ~HookHandle();
    HookHandle(HookHandle&& other) noexcept;
    HookHandle& operator=(HookHandle&& other) noexcept;
    HookHandle(const HookHandle&) = delete;
    HookHandle& operator=(const HookHandle&) = delete;

    void remove();
    size_t size() const { return ids_.size(); }  // hook points this handle covers

private:
    std::weak_ptr<HookRegistry> registry_;
    std::vector<uint64_t> ids_;
};

// A group of handles removed together (TransformerLens' `with model.hooks(...)`).
class HookScope {
public:
    HookScope() = default;
    HookScope(HookScope&&) = default;
    HookScope& operator=(HookScope&&) = default;
    void add(HookHandle handle) { handles_.push_back(std::move(handle)); }
    void clear() { handles_.clear(); }

private:
    std::vector<HookHandle> handles_;
};

// The hooks registered on one model: a dense table of hook points, each with its list of hook
// functions. `wanted()` is one load and compare, so sites nobody hooks cost nothing.
class HookRegistry {
public:
    HookRegistry(int n_layers, const std::vector<HookKey>& points);

    const std::vector<HookPoint>& points() const { return points_; }
    // Names of the points that match a hook name or glob.
    std::vector<std::string> resolve(const std::string& name_or_glob) const;
    // Adds fn at every point matching; throws UsageError when nothing matches.
    std::vector<uint64_t> add(const std::string& name_or_glob, HookFn fn);
    void remove(const std::vector<uint64_t>& ids);
    void clear();
    size_t hook_count() const;
    // The id the next add() starts from: remove_added_since(mark) removes exactly the hooks added
    // after mark was taken (e.g. what a failed analysis left behind), keeping the caller's own.
    uint64_t mark() const { return next_id_; }
    void remove_added_since(uint64_t mark);

    bool wanted(HookSite site, int layer) const {
        int slot = slot_of(site, layer);
        return slot >= 0 && !hooks_[static_cast<size_t>(slot)].empty();
    }
    // Runs the hooks of (site, layer) in registration order; returns the (possibly replaced)
    // activation. A replacement of another shape throws UsageError naming the hook point.
    at::Tensor apply(HookSite site, int layer, at::Tensor activation) const {
        int slot = slot_of(site, layer);
        if (slot < 0 || hooks_[static_cast<size_t>(slot)].empty()) return activation;
        return run(static_cast<size_t>(slot), std::move(activation));
    }

private:
    struct Entry {
        uint64_t id;
        HookFn fn;
    };
    int slot_of(HookSite site, int layer) const {
        size_t index = layer < 0 ? static_cast<size_t>(site)
                                 : static_cast<size_t>(kHookSiteCount) * (static_cast<size_t>(layer) + 1) +
                                       static_cast<size_t>(site);
        return index < slots_.size() ? slots_[index] : -1;
    }
    at::Tensor run(size_t slot, at::Tensor activation) const;

    std::vector<int> slots_;  // (layer+1)*sites + site -> index into points_/hooks_, or -1
    std::vector<HookPoint> points_;
    std::vector<std::vector<Entry>> hooks_;
    uint64_t next_id_ = 1;
};

}  // namespace headscope
