#include "headscope/sink_redistribution.hpp"

#include <torch/torch.h>

#include <fmt/format.h>

#include "headscope/error.hpp"
#include "headscope/hook_names.hpp"

namespace headscope {

namespace {

// [1, H, 1, 1] double: 1 for the edited heads (every head when `heads` is empty).
torch::Tensor head_weights(const std::vector<int>& heads, int64_t H, const HookPoint& point) {
    if (heads.empty()) return torch::ones({1, H, 1, 1}, torch::kDouble);
    torch::Tensor m = torch::zeros({1, H, 1, 1}, torch::kDouble);
    for (int h : heads) {
        if (h >= H)
            throw UsageError(fmt::format("{}: drop_sink: head {} does not exist (the layer has heads 0..{})", point.name,
                                         h, H - 1));
        m[0][h][0][0] = 1.0;
    }
    return m;
}

// [1, 1, 1, Tk] double: 1 on the sink keys.
torch::Tensor sink_keys(const Positions& sinks, int64_t Tk, const HookPoint& point) {
    torch::Tensor m = torch::zeros({1, 1, 1, Tk}, torch::kDouble);
    for (int64_t p : sinks) {
        const int64_t k = p < 0 ? p + Tk : p;
        if (k < 0 || k >= Tk)
            throw UsageError(fmt::format("{}: drop_sink: sink position {} is outside the run's {} positions", point.name,
                                         p, Tk));
        m[0][0][0][k] = 1.0;
    }
    return m;
}

}  // namespace

NamedHook drop_sink_hook(int layer, const std::vector<int>& heads, double alpha, const Positions& sink_positions) {
    if (layer < 0) throw UsageError(fmt::format("drop_sink: layer {} is negative", layer));
    for (int h : heads)
        if (h < 0) throw UsageError(fmt::format("drop_sink: head {} of layer {} is negative", h, layer));
    if (!(alpha >= 0.0 && alpha <= 1.0))
        throw UsageError(fmt::format("drop_sink: alpha {} is outside [0, 1] (the share of sink attention moved)", alpha));
    const Positions sinks = sink_positions.empty() ? Positions{0} : sink_positions;
    return {hook_name(HookKey{HookSite::attn_pattern, layer}),
            [heads, alpha, sinks](const at::Tensor& pattern, const HookPoint& point) -> std::optional<at::Tensor> {
                if (pattern.dim() != 4)
                    throw UsageError(fmt::format("{}: drop_sink expects a pattern [batch, head, query, key], got {} "
                                                 "dimensions",
                                                 point.name, pattern.dim()));
                if (alpha == 0.0) return std::nullopt;
                const int64_t H = pattern.size(1), Tq = pattern.size(2), Tk = pattern.size(3);
                const torch::Device device = pattern.device();
                const torch::Tensor edit = head_weights(heads, H, point).to(device);
                const torch::Tensor sink = sink_keys(sinks, Tk, point).to(device);
                // Causal visibility: query q (the last Tq of Tk positions) sees keys k <= q + Tk - Tq.
                const torch::Tensor visible =
                    torch::ones({Tq, Tk}, torch::TensorOptions().dtype(torch::kDouble).device(device)).tril(Tk - Tq).view(
                        {1, 1, Tq, Tk});
                const torch::Tensor others = visible * (1.0 - sink);      // visible non-sink keys
                const torch::Tensor n_others = others.sum(-1, true);      // [1, 1, Tq, 1]
                const torch::Tensor P = pattern.to(torch::kDouble);
                const torch::Tensor on_sinks = (P * sink * visible).sum(-1, true);  // s   [B, H, Tq, 1]
                const torch::Tensor rest = (P * others).sum(-1, true);             // 1 − s
                constexpr double kTiny = 1e-300;
                // How the freed share alpha·s is split over the visible non-sink keys.
                const torch::Tensor split =
                    torch::where(rest > kTiny, P / rest.clamp_min(kTiny), others / n_others.clamp_min(1.0)) * others;
                torch::Tensor edited = P * (1.0 - alpha * sink) + alpha * on_sinks * split;
                edited = torch::where(n_others > 0, edited, P);  // a query that sees only sinks keeps its row
                return torch::where(edit > 0, edited, P).to(pattern.scalar_type());
            }};
}

}  // namespace headscope
