// The four parts of head_attribution, each for one prompt: direct logit attribution, per-head
// patching (ablation and activation patching, batched over heads), attribution patching.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <string>
#include <vector>

#include "head_attribution/attribution_metric.hpp"
#include "headscope/head_sweep.hpp"
#include "headscope/sdk/analysis.hpp"

namespace headscope::attribution {

// --- (a) direct logit attribution --------------------------------------------------------
// Hooks a clean run must cache for it.
std::vector<std::string> dla_hooks(const ModelConfig& config);

struct DlaComponent {
    std::string name;  // "embed", "pos_embed", "mlp 0", ..., "biases"
    double value = 0;
};

struct DlaPrompt {
    std::vector<double> heads;  // [n_layers * n_heads]
    std::vector<DlaComponent> components;  // every non-head component, in a fixed order
    double constant = 0;       // final-norm bias and b_U terms (not attributable to a component)
    double metric_linear = 0;  // direction · final logits: what the components + constant add up to
    double error = 0;          // |sum of components + constant − metric_linear|
};

// Every head's output z·W_O, every MLP's output (without b_out), the embeddings and the summed
// biases at the last position, projected on W_U·direction through the final norm with its scale
// frozen from the run (LayerNorm: each component centred first). `direction` is the metric's
// direction in vocabulary space (vocab_direction). float64 throughout.
DlaPrompt direct_logit_attribution(const HookedTransformer& model, const CachedRun& run, const torch::Tensor& direction);

// --- (b), (d) per-head edits (ablation, activation patching) --------------------------
// Runs `tokens` [1, T] once per head with `edit` on that head (through HeadSweep: layers >= the
// head's from the cached residual stream, heads batched, logits only at the final position).
struct HeadRuns {
    std::vector<double> metric;  // [n_layers * n_heads]
    std::vector<int64_t> top1;   // the final position's argmax per head run
};
HeadRuns edit_each_head(HookedTransformer& model, const torch::Tensor& tokens, const SweepEdit& edit, MetricKind kind,
                        const Target& target, const std::function<void()>& check_cancelled);

// --- (c) attribution patching ------------------------------------------------------------
struct AttributionPrompt {
    std::vector<double> heads;  // [n_layers * n_heads]: ∂metric/∂z at the corrupted run · (z_clean − z_corrupted)
    double corrupted_metric = 0;
};
// One forward and one backward pass of a batch of corrupted runs of equal length,
// corrupted_tokens [B, T], one target per row. clean_z[l]: the clean runs' hook_z of layer l,
// [B, H, d_head] at their final positions when final_only, else [B, T, H, d_head].
std::vector<AttributionPrompt> attribution_patching(HookedTransformer& model, const torch::Tensor& corrupted_tokens,
                                                    const std::vector<torch::Tensor>& clean_z, bool final_only,
                                                    MetricKind kind, const std::vector<Target>& targets);

// --- statistics --------------------------------------------------------------------------
// Spearman's rank correlation (average ranks for ties); NaN when either side is constant.
double spearman(const std::vector<double>& a, const std::vector<double>& b);
double pearson(const std::vector<double>& a, const std::vector<double>& b);

}  // namespace headscope::attribution
