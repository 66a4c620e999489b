#include "head_attribution/attribution_metric.hpp"

#include <fmt/format.h>

#include "headscope/session.hpp"

namespace headscope::attribution {

MetricKind parse_metric(const std::string& text) {
    if (text == "answer_logit") return MetricKind::answer_logit;
    if (text == "logit_diff") return MetricKind::logit_diff;
    if (text == "loss") return MetricKind::loss;
    if (text == "kl") return MetricKind::kl;
    if (text == "accuracy") return MetricKind::accuracy;
    throw UsageError(fmt::format("unknown metric '{}' (expected answer_logit, logit_diff, loss, kl or accuracy)", text));
}

bool differentiable(MetricKind kind) { return kind != MetricKind::kl && kind != MetricKind::accuracy; }

const char* describe(MetricKind kind) {
    switch (kind) {
        case MetricKind::answer_logit: return "logit(answer)";
        case MetricKind::logit_diff: return "logit(answer) - logit(alternative)";
        case MetricKind::loss: return "loss -log p(answer)";
        case MetricKind::kl: return "KL(clean || run) of the next-token distribution";
        case MetricKind::accuracy: return "accuracy (the answer is the top token)";
    }
    return "?";
}

torch::Tensor metric_values(const torch::Tensor& logits, MetricKind kind, const Target& target) {
    torch::Tensor last = logits.select(1, logits.size(1) - 1);  // [B, V]
    switch (kind) {
        case MetricKind::answer_logit: return last.select(1, target.answer);
        case MetricKind::logit_diff: return last.select(1, target.answer) - last.select(1, target.alternative);
        case MetricKind::loss: return -torch::log_softmax(last.to(torch::kDouble), -1).select(1, target.answer);
        case MetricKind::kl: {
            if (!target.clean_log_probs.defined()) throw UsageError("metric kl: the target has no clean distribution");
            torch::Tensor lp0 = target.clean_log_probs.to(last.device()).unsqueeze(0);
            return (lp0.exp() * (lp0 - torch::log_softmax(last.to(torch::kDouble), -1))).sum(-1);
        }
        case MetricKind::accuracy: return last.argmax(-1).eq(target.answer).to(torch::kDouble);
    }
    return {};
}

torch::Tensor top_tokens(const torch::Tensor& logits) { return logits.select(1, logits.size(1) - 1).argmax(-1); }

double metric_value(const torch::Tensor& logits, MetricKind kind, const Target& target) {
    return metric_values(logits, kind, target)[0].item<double>();
}

Target resolve_target(const TokenizedPrompt& prompt, const torch::Tensor& final_logits, MetricKind kind) {
    // The core's rule (headscope/session.hpp), shared with the GUI's intervention panel.
    const NextTokenTarget next = next_token_target(final_logits, prompt.answer_id, prompt.alternative_id);
    Target t;
    t.answer = next.answer;
    t.answer_from_model = next.answer_from_model;
    if (kind == MetricKind::kl) t.clean_log_probs = torch::log_softmax(final_logits.detach().to(torch::kCPU, torch::kDouble), -1);
    if (kind == MetricKind::answer_logit || kind == MetricKind::loss) return t;
    t.alternative = next.alternative;
    t.alternative_from_model = next.alternative_from_model;
    return t;
}

torch::Tensor vocab_direction(const torch::Tensor& final_logits, MetricKind kind, const Target& target) {
    const int64_t V = final_logits.size(0);
    torch::Tensor g = torch::zeros({V}, torch::kDouble);
    switch (kind) {
        case MetricKind::answer_logit: g[target.answer] = 1.0; break;
        case MetricKind::logit_diff:
            g[target.answer] = 1.0;
            g[target.alternative] = -1.0;
            break;
        case MetricKind::loss:
            g = torch::softmax(final_logits.detach().to(torch::kDouble).cpu(), -1);
            g[target.answer] -= 1.0;
            break;
        case MetricKind::kl:
        case MetricKind::accuracy:
            throw UsageError(fmt::format("metric {} has no direction in vocabulary space (not differentiable)", describe(kind)));
    }
    return g;
}

std::string token_label(const Tokenizer& tokenizer, int64_t id) {
    if (id >= 0 && id < tokenizer.vocab_size()) {
        try {
            return tokenizer.token_text(static_cast<int32_t>(id));
        } catch (const Error&) {
        }
    }
    return fmt::format("<id {}>", id);
}

}  // namespace headscope::attribution
