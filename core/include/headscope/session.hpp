// What the GUI's engine thread and the CLI share, so both give the same numbers and the same
// provenance: the provenance of results computed on a loaded model, the next-token target of a
// prompt, and the next-token metrics of an edited run against the clean one (the numbers the
// GUI's intervention panel and the head_intervention analysis report). Qt-free.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "headscope/model_loader.hpp"
#include "headscope/sdk/result_store.hpp"

namespace headscope {

// The provenance of results computed on `model` for `prompts`: the model file, its SHA-256,
// format and architecture; model_facts model_type, n_layers, n_heads, n_kv_heads, d_model,
// d_head, d_mlp, d_vocab, n_ctx, parameters; headscope's version and the time.
Provenance session_provenance(const LoadedModel& model, const std::vector<std::string>& prompts,
                              const std::string& prompt_source, const std::string& command_line);

// The tokens the next-token metrics are measured on: the prompt's answer and alternative, or,
// where the prompt gives none (or an id outside the logits), the clean run's top token and its
// best other token.
struct NextTokenTarget {
    int64_t answer = -1;
    int64_t alternative = -1;
    bool answer_from_model = false;
    bool alternative_from_model = false;
};
// clean_final_logits: the clean run's logits at the last position, [V].
NextTokenTarget next_token_target(const at::Tensor& clean_final_logits, int64_t answer_id, int64_t alternative_id);

// At the last position, in float64: p(answer), logit(answer), logit(answer) - logit(alternative).
struct NextTokenMetrics {
    double p_answer = 0;
    double answer_logit = 0;
    double logit_diff = 0;
};
NextTokenMetrics next_token_metrics(const at::Tensor& final_logits, const NextTokenTarget& target);

// KL(clean || edited) of the next-token distributions, in nats (float64).
double next_token_kl(const at::Tensor& clean_final_logits, const at::Tensor& edited_final_logits);

}  // namespace headscope
