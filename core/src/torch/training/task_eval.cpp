// Accuracy and logit difference of a model on task prompts.
#include "headscope/task_eval.hpp"

#include <map>

#include <fmt/format.h>
#include <torch/torch.h>

#include "headscope/error.hpp"

namespace headscope {

namespace {
int32_t first_token(const Tokenizer& tok, const std::string& text, const std::string& what, size_t index) {
    std::vector<int32_t> ids = tok.encode(text, false).ids;
    if (ids.empty()) throw UsageError(fmt::format("prompt {}: the {} \"{}\" encodes to no token", index + 1, what, text));
    return ids.front();
}
}  // namespace

std::vector<PromptScore> score_prompts(HookedTransformer& model, const Tokenizer& tok,
                                       const std::vector<tutorial::TaskPrompt>& prompts) {
    std::vector<PromptScore> scores(prompts.size());
    std::map<size_t, std::vector<size_t>> by_length;
    std::vector<std::vector<int32_t>> encoded(prompts.size());
    const bool bos = tok.bos_id() >= 0;
    for (size_t i = 0; i < prompts.size(); ++i) {
        encoded[i] = tok.encode(prompts[i].prompt, bos).ids;
        if (encoded[i].empty()) throw UsageError(fmt::format("prompt {} encodes to no tokens", i + 1));
        if (static_cast<int64_t>(encoded[i].size()) > model.config().n_ctx)
            throw UsageError(fmt::format("prompt {} is {} tokens, longer than the model's context of {}", i + 1,
                                         encoded[i].size(), model.config().n_ctx));
        scores[i].answer_id = first_token(tok, prompts[i].answer, "answer", i);
        if (!prompts[i].alternative.empty())
            scores[i].alternative_id = first_token(tok, prompts[i].alternative, "alternative", i);
        by_length[encoded[i].size()].push_back(i);
    }
    torch::NoGradGuard no_grad;
    constexpr size_t kBatch = 64;
    for (const auto& [length, members] : by_length) {
        for (size_t start = 0; start < members.size(); start += kBatch) {
            const size_t n = std::min(kBatch, members.size() - start);
            std::vector<int64_t> flat;
            flat.reserve(n * length);
            for (size_t j = 0; j < n; ++j) {
                const auto& ids = encoded[members[start + j]];
                flat.insert(flat.end(), ids.begin(), ids.end());
            }
            torch::Tensor tokens = torch::tensor(flat, torch::kLong).view({static_cast<int64_t>(n), static_cast<int64_t>(length)});
            torch::Tensor last = model.forward(tokens).select(1, static_cast<int64_t>(length) - 1).to(torch::kCPU, torch::kDouble);
            torch::Tensor argmax = last.argmax(-1);
            torch::Tensor log_probs = torch::log_softmax(last, -1);
            for (size_t j = 0; j < n; ++j) {
                PromptScore& s = scores[members[start + j]];
                s.predicted_id = static_cast<int32_t>(argmax[static_cast<int64_t>(j)].item<int64_t>());
                s.correct = s.predicted_id == s.answer_id;
                s.loss = -log_probs[static_cast<int64_t>(j)][s.answer_id].item<double>();
                if (s.alternative_id >= 0)
                    s.logit_diff = (last[static_cast<int64_t>(j)][s.answer_id] - last[static_cast<int64_t>(j)][s.alternative_id])
                                       .item<double>();
            }
        }
    }
    return scores;
}

std::vector<TaskScore> summarize_scores(const std::vector<tutorial::TaskPrompt>& prompts,
                                        const std::vector<PromptScore>& scores) {
    if (prompts.size() != scores.size()) throw UsageError("summarize_scores: prompts and scores differ in number");
    std::vector<TaskScore> out;
    std::map<std::string, size_t> index;
    for (size_t i = 0; i < prompts.size(); ++i) {
        auto [it, inserted] = index.emplace(prompts[i].task, out.size());
        if (inserted) out.push_back(TaskScore{prompts[i].task});
        TaskScore& t = out[it->second];
        ++t.count;
        t.accuracy += scores[i].correct ? 1.0 : 0.0;
        t.mean_loss += scores[i].loss;
        if (scores[i].alternative_id >= 0) {
            ++t.with_alternative;
            t.mean_logit_diff += scores[i].logit_diff;
        }
    }
    for (TaskScore& t : out) {
        t.accuracy /= static_cast<double>(t.count);
        t.mean_loss /= static_cast<double>(t.count);
        if (t.with_alternative > 0) t.mean_logit_diff /= static_cast<double>(t.with_alternative);
    }
    return out;
}

std::vector<TaskScore> evaluate_tasks(HookedTransformer& model, const Tokenizer& tokenizer,
                                      const std::vector<tutorial::TaskPrompt>& prompts) {
    return summarize_scores(prompts, score_prompts(model, tokenizer, prompts));
}

}  // namespace headscope
