#include "headscope/interventions.hpp"

#include <torch/torch.h>

#include <cmath>
#include <map>
#include <memory>

#include <fmt/format.h>

#include "headscope/error.hpp"
#include "headscope/formatting.hpp"
#include "headscope/hook_names.hpp"
#include "headscope/sdk/head_ref.hpp"

namespace headscope {

const char* to_string(InterventionMode mode) {
    switch (mode) {
        case InterventionMode::zero: return "zero";
        case InterventionMode::scale: return "scale";
        case InterventionMode::mean: return "mean";
        case InterventionMode::patch: return "patch";
    }
    return "?";
}

InterventionMode parse_intervention_mode(std::string_view text) {
    if (text == "zero" || text == "ablate") return InterventionMode::zero;
    if (text == "scale") return InterventionMode::scale;
    if (text == "mean") return InterventionMode::mean;
    if (text == "patch" || text == "resample") return InterventionMode::patch;
    throw UsageError(fmt::format("unknown intervention mode '{}' (expected zero, scale, mean or patch)", text));
}

namespace {

std::string shape_of(const at::Tensor& t) { return shape_string(t.sizes().vec()); }

// Boolean mask over the position axis `axis` of a tensor of `dims` dimensions with `length`
// positions: shape [1, ..., length, ..., 1]. Every position when `positions` is empty.
torch::Tensor position_mask(const Positions& positions, int64_t length, int64_t dims, int64_t axis,
                            const torch::Device& device, const std::string& where) {
    std::vector<int64_t> shape(static_cast<size_t>(dims), 1);
    shape[static_cast<size_t>(axis)] = length;
    if (positions.empty()) return torch::ones(shape, torch::TensorOptions().dtype(torch::kBool).device(device));
    std::vector<uint8_t> hit(static_cast<size_t>(length), 0);
    for (int64_t p : positions) {
        int64_t q = p < 0 ? p + length : p;
        if (q < 0 || q >= length)
            throw UsageError(fmt::format("{}: position {} is outside the run's {} positions", where, p, length));
        hit[static_cast<size_t>(q)] = 1;
    }
    return torch::tensor(std::vector<int64_t>(hit.begin(), hit.end()), torch::kLong)
        .to(torch::kBool)
        .view(shape)
        .to(device);
}

// Mask [1, T, H, 1] of (positions x heads) of a hook_z activation.
torch::Tensor head_mask(const at::Tensor& z, const std::vector<int>& heads, const Positions& positions,
                        const HookPoint& point) {
    if (z.dim() != 4)
        throw UsageError(fmt::format("{}: head interventions expect [batch, pos, head, d_head], got {}", point.name,
                                     shape_of(z)));
    const int64_t H = z.size(2);
    std::vector<int64_t> chosen(static_cast<size_t>(H), 0);
    for (int h : heads) {
        if (h < 0 || h >= H)
            throw UsageError(fmt::format("{}: head {} does not exist (the layer has heads 0..{})", point.name, h, H - 1));
        chosen[static_cast<size_t>(h)] = 1;
    }
    torch::Tensor hm = torch::tensor(chosen, torch::kLong).to(torch::kBool).view({1, 1, H, 1}).to(z.device());
    return position_mask(positions, z.size(1), 4, 1, z.device(), point.name).logical_and(hm);
}

void check_heads(const std::vector<int>& heads, int layer, const char* what) {
    if (layer < 0) throw UsageError(fmt::format("{}: layer {} is negative", what, layer));
    for (int h : heads)
        if (h < 0) throw UsageError(fmt::format("{}: head {} of layer {} is negative", what, h, layer));
}

// Brings a mean z ([H, dh], [T, H, dh] or [1, T, H, dh]) to a shape broadcastable to z.
torch::Tensor broadcast_mean(const at::Tensor& mean, const at::Tensor& z, const HookPoint& point) {
    torch::Tensor m = mean.to(z.device(), z.scalar_type());
    const bool ok_heads = m.dim() >= 2 && m.size(-2) == z.size(2) && m.size(-1) == z.size(3);
    if (ok_heads && m.dim() == 2) return m.view({1, 1, z.size(2), z.size(3)});
    if (ok_heads && m.dim() == 3 && m.size(0) == z.size(1)) return m.unsqueeze(0);
    if (ok_heads && m.dim() == 4 && m.size(0) == 1 && m.size(1) == z.size(1)) return m;
    throw UsageError(fmt::format("{}: mean z has shape {}; expected [{}, {}] or [{}, {}, {}] for an activation of shape {}",
                                 point.name, shape_of(mean), z.size(2), z.size(3), z.size(1), z.size(2), z.size(3),
                                 shape_of(z)));
}

// Brings a source activation (the activation's shape, without batch, or batch 1) to a shape
// broadcastable to `act`.
torch::Tensor broadcast_source(const at::Tensor& source, const at::Tensor& act, const HookPoint& point) {
    torch::Tensor s = source.to(act.device(), act.scalar_type());
    if (s.dim() == act.dim() - 1) s = s.unsqueeze(0);
    bool ok = s.dim() == act.dim() && (s.size(0) == act.size(0) || s.size(0) == 1);
    for (int64_t i = 1; ok && i < act.dim(); ++i) ok = s.size(i) == act.size(i);
    if (!ok)
        throw UsageError(fmt::format("{}: the patch source has shape {} but the activation has shape {} (a source "
                                     "without the batch axis or with batch 1 is broadcast; the positions must match)",
                                     point.name, shape_of(source), shape_of(act)));
    return s;
}

std::string z_hook(int layer) { return hook_name(HookKey{HookSite::attn_z, layer}); }

// Applies one head intervention to z (out of place).
torch::Tensor apply_one(const HeadIntervention& iv, const torch::Tensor& z, const HookPoint& point) {
    torch::Tensor mask = head_mask(z, {iv.head}, iv.positions, point);
    switch (iv.mode) {
        case InterventionMode::zero: return z.masked_fill(mask, 0.0);
        case InterventionMode::scale: return torch::where(mask, z * iv.factor, z);
        case InterventionMode::mean: return torch::where(mask, broadcast_mean(iv.source, z, point), z);
        case InterventionMode::patch: return torch::where(mask, broadcast_source(iv.source, z, point), z);
    }
    return z;
}

}  // namespace

NamedHook zero_heads_hook(int layer, const std::vector<int>& heads, const Positions& positions) {
    check_heads(heads, layer, "zero_heads_hook");
    return {z_hook(layer), [heads, positions](const at::Tensor& z, const HookPoint& p) -> std::optional<at::Tensor> {
                return z.masked_fill(head_mask(z, heads, positions, p), 0.0);
            }};
}

NamedHook scale_heads_hook(int layer, const std::vector<int>& heads, double factor, const Positions& positions) {
    check_heads(heads, layer, "scale_heads_hook");
    if (!std::isfinite(factor)) throw UsageError(fmt::format("scale_heads_hook: factor {} is not finite", factor));
    return {z_hook(layer),
            [heads, factor, positions](const at::Tensor& z, const HookPoint& p) -> std::optional<at::Tensor> {
                return torch::where(head_mask(z, heads, positions, p), z * factor, z);
            }};
}

NamedHook mean_ablate_heads_hook(int layer, const std::vector<int>& heads, const at::Tensor& mean_z,
                                 const Positions& positions) {
    check_heads(heads, layer, "mean_ablate_heads_hook");
    if (!mean_z.defined()) throw UsageError("mean_ablate_heads_hook: no mean z given");
    torch::Tensor mean = mean_z.detach();
    return {z_hook(layer),
            [heads, mean, positions](const at::Tensor& z, const HookPoint& p) -> std::optional<at::Tensor> {
                return torch::where(head_mask(z, heads, positions, p), broadcast_mean(mean, z, p), z);
            }};
}

NamedHook patch_heads_hook(int layer, const std::vector<int>& heads, const at::Tensor& source_z,
                           const Positions& positions) {
    check_heads(heads, layer, "patch_heads_hook");
    if (!source_z.defined()) throw UsageError("patch_heads_hook: no source z given");
    torch::Tensor source = source_z.detach();
    return {z_hook(layer),
            [heads, source, positions](const at::Tensor& z, const HookPoint& p) -> std::optional<at::Tensor> {
                return torch::where(head_mask(z, heads, positions, p), broadcast_source(source, z, p), z);
            }};
}

NamedHook patch_hook(const std::string& name, const at::Tensor& source_in, const Positions& positions) {
    if (!source_in.defined()) throw UsageError(fmt::format("patch_hook({}): no source tensor given", name));
    if (name.find_first_of("*?") != std::string::npos)
        throw UsageError(fmt::format("patch_hook: '{}' is a glob; patch one hook point at a time", name));
    torch::Tensor source = source_in.detach();
    return {name, [source, positions](const at::Tensor& act, const HookPoint& p) -> std::optional<at::Tensor> {
                torch::Tensor s = broadcast_source(source, act, p);
                if (positions.empty()) return s.expand_as(act).clone();
                const bool query_axis = p.key.site == HookSite::attn_scores || p.key.site == HookSite::attn_pattern;
                const int64_t axis = query_axis ? 2 : 1;
                if (act.dim() <= axis)
                    throw UsageError(fmt::format("{}: activation of shape {} has no position axis", p.name, shape_of(act)));
                return torch::where(position_mask(positions, act.size(axis), act.dim(), axis, act.device(), p.name), s, act);
            }};
}

std::vector<NamedHook> head_interventions(const std::vector<HeadIntervention>& interventions) {
    std::map<int, std::vector<HeadIntervention>> by_layer;
    for (const auto& iv : interventions) {
        check_heads({iv.head}, iv.layer, "head_interventions");
        if ((iv.mode == InterventionMode::mean || iv.mode == InterventionMode::patch) && !iv.source.defined())
            throw UsageError(fmt::format("head_interventions: {} of head {} needs a source tensor", to_string(iv.mode),
                                         head_label(iv.layer, iv.head)));
        if (iv.mode == InterventionMode::scale && !std::isfinite(iv.factor))
            throw UsageError(fmt::format("head_interventions: scale factor {} of head {} is not finite", iv.factor,
                                         head_label(iv.layer, iv.head)));
        HeadIntervention copy = iv;
        if (copy.source.defined()) copy.source = copy.source.detach();
        by_layer[iv.layer].push_back(std::move(copy));
    }
    std::vector<NamedHook> hooks;
    for (auto& [layer, list] : by_layer) {
        auto shared = std::make_shared<const std::vector<HeadIntervention>>(std::move(list));
        hooks.push_back({z_hook(layer), [shared](const at::Tensor& z, const HookPoint& p) -> std::optional<at::Tensor> {
                             torch::Tensor out = z;
                             for (const auto& iv : *shared) out = apply_one(iv, out, p);
                             return out;
                         }});
    }
    return hooks;
}

}  // namespace headscope
