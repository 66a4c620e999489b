// The metric head_attribution (and head_intervention, head_search) measure at the final position
// of a run: the answer's logit, the logit difference answer − alternative, the loss −log p(answer),
// KL(clean ‖ run) of the next-token distribution, or accuracy (the answer is the argmax).
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "headscope/sdk/analysis.hpp"

namespace headscope::attribution {

enum class MetricKind { answer_logit, logit_diff, loss, kl, accuracy };
// answer_logit, logit_diff and loss are differentiable (DLA, attribution patching); kl and accuracy are not.
bool differentiable(MetricKind kind);
MetricKind parse_metric(const std::string& text);  // UsageError for an unknown name
const char* describe(MetricKind kind);              // "logit(answer) − logit(alternative)"

// The tokens a prompt's metric is measured on.
struct Target {
    int64_t answer = -1;
    int64_t alternative = -1;  // logit_diff, kl and accuracy (flip counts)
    bool answer_from_model = false;       // the prompt had no answer: the clean run's top token
    bool alternative_from_model = false;  // no alternative: the clean run's best other token
    torch::Tensor clean_log_probs;        // kl only: log softmax of the clean final logits, float64 [V]
};

// Metric per batch row, at the last position: logits [B, T, V] -> [B] (differentiable for
// answer_logit, logit_diff, loss).
torch::Tensor metric_values(const torch::Tensor& logits, MetricKind kind, const Target& target);
double metric_value(const torch::Tensor& logits, MetricKind kind, const Target& target);  // batch row 0

// The target of a prompt: its answer/alternative tokens, or the clean run's top tokens where the
// prompt set gives none (final_logits: the clean run's logits at the last position, [V]).
Target resolve_target(const TokenizedPrompt& prompt, const torch::Tensor& final_logits, MetricKind kind);

// The argmax at the last position per batch row: logits [B, T, V] -> [B] int64.
torch::Tensor top_tokens(const torch::Tensor& logits);

// Direction in vocabulary space whose dot product with the final logits is the metric, or (for
// the loss) its linearisation at the run: e_a [− e_b], or softmax(logits) − e_a. float64 [V].
torch::Tensor vocab_direction(const torch::Tensor& final_logits, MetricKind kind, const Target& target);

// The token's text, or "<id N>" for ids the tokenizer does not cover (a model's vocabulary may be
// larger than its tokenizer's).
std::string token_label(const Tokenizer& tokenizer, int64_t id);

}  // namespace headscope::attribution
