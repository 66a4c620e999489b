#include "headscope/session.hpp"

#include <torch/torch.h>

#include <limits>

#include "headscope/error.hpp"
#include "headscope/formatting.hpp"

namespace headscope {

Provenance session_provenance(const LoadedModel& m, const std::vector<std::string>& prompts,
                              const std::string& prompt_source, const std::string& command_line) {
    const ModelConfig& c = m.model->config();
    Provenance p;
    p.model_path = m.path;
    p.model_sha256 = sha256_of_path(m.path);
    p.model_format = to_string(m.format);
    p.architecture = to_string(c.architecture);
    p.model_facts = {{"model_type", c.model_type},
                     {"n_layers", std::to_string(c.n_layers)},
                     {"n_heads", std::to_string(c.n_heads)},
                     {"n_kv_heads", std::to_string(c.n_kv_heads)},
                     {"d_model", std::to_string(c.d_model)},
                     {"d_head", std::to_string(c.d_head)},
                     {"d_mlp", std::to_string(c.d_mlp)},
                     {"d_vocab", std::to_string(c.d_vocab)},
                     {"n_ctx", std::to_string(c.n_ctx)},
                     {"parameters", std::to_string(m.model->parameter_count())}};
    p.prompts = prompts;
    p.prompt_source = prompt_source;
    p.headscope_version = HEADSCOPE_VERSION;
    p.created_utc = utc_timestamp();
    p.command_line = command_line;
    return p;
}

namespace {
at::Tensor as_vector(const at::Tensor& logits, const char* what) {
    if (!logits.defined() || logits.dim() != 1 || logits.size(0) < 1)
        throw UsageError(std::string("next-token metrics: ") + what + " must be a [vocab] vector of logits");
    return logits.detach().to(torch::kCPU, torch::kDouble);
}
}  // namespace

NextTokenTarget next_token_target(const at::Tensor& clean_final_logits, int64_t answer_id, int64_t alternative_id) {
    const at::Tensor logits = as_vector(clean_final_logits, "the clean logits");
    const int64_t V = logits.size(0);
    NextTokenTarget t;
    t.answer = answer_id;
    if (t.answer < 0 || t.answer >= V) {
        t.answer = logits.argmax().item<int64_t>();
        t.answer_from_model = true;
    }
    t.alternative = alternative_id;
    if (t.alternative < 0 || t.alternative >= V || t.alternative == t.answer) {
        if (V < 2) {
            t.alternative = -1;
        } else {
            at::Tensor others = logits.clone();
            others[t.answer] = -std::numeric_limits<double>::infinity();
            t.alternative = others.argmax().item<int64_t>();
        }
        t.alternative_from_model = true;
    }
    return t;
}

NextTokenMetrics next_token_metrics(const at::Tensor& final_logits, const NextTokenTarget& target) {
    const at::Tensor logits = as_vector(final_logits, "the logits");
    const int64_t V = logits.size(0);
    if (target.answer < 0 || target.answer >= V)
        throw UsageError("next-token metrics: the answer token is outside the vocabulary");
    NextTokenMetrics m;
    m.p_answer = torch::softmax(logits, -1)[target.answer].item<double>();
    m.answer_logit = logits[target.answer].item<double>();
    m.logit_diff = target.alternative >= 0 && target.alternative < V
                       ? m.answer_logit - logits[target.alternative].item<double>()
                       : std::numeric_limits<double>::quiet_NaN();
    return m;
}

double next_token_kl(const at::Tensor& clean_final_logits, const at::Tensor& edited_final_logits) {
    const at::Tensor clean = torch::log_softmax(as_vector(clean_final_logits, "the clean logits"), -1);
    const at::Tensor edited = torch::log_softmax(as_vector(edited_final_logits, "the edited logits"), -1);
    if (clean.size(0) != edited.size(0)) throw UsageError("next-token KL: the two runs have different vocabularies");
    return (clean.exp() * (clean - edited)).sum().item<double>();
}

}  // namespace headscope
