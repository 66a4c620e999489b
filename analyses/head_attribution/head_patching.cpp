// Per-head edits through the sweep engine: every head of the model, one candidate run each.
#include "head_attribution/attribution_parts.hpp"

namespace headscope::attribution {

HeadRuns edit_each_head(HookedTransformer& model, const torch::Tensor& tokens, const SweepEdit& edit, MetricKind kind,
                        const Target& target, const std::function<void()>& check_cancelled) {
    torch::NoGradGuard no_grad;
    const ModelConfig& cfg = model.config();
    std::vector<HeadRef> heads;
    for (int l = 0; l < cfg.n_layers; ++l)
        for (int h = 0; h < cfg.n_heads; ++h) heads.push_back({l, h});
    HeadRuns out;
    out.metric.assign(heads.size(), 0.0);
    out.top1.assign(heads.size(), -1);
    HeadSweep sweep(model, tokens);
    sweep.run(heads, edit, [&](size_t first, const torch::Tensor& logits) {
        // logits [c, 1, 1, V]: one prompt, the final position.
        torch::Tensor rows = logits.select(1, 0);  // [c, 1, V]
        torch::Tensor m = metric_values(rows, kind, target).to(torch::kCPU, torch::kDouble).contiguous();
        torch::Tensor top = top_tokens(rows).to(torch::kCPU).contiguous();
        for (int64_t r = 0; r < rows.size(0); ++r) {
            out.metric[first + static_cast<size_t>(r)] = m[r].item<double>();
            out.top1[first + static_cast<size_t>(r)] = top[r].item<int64_t>();
        }
    }, check_cancelled);
    return out;
}

}  // namespace headscope::attribution
