#include <torch/torch.h>

#include "headscope/threads.hpp"
#include "headscope/sdk/analysis.hpp"

#include <algorithm>
#include <map>

namespace headscope {

AnalysisContext::AnalysisContext(HookedTransformer& model_, const Tokenizer& tokenizer_,
                                 const std::vector<TokenizedPrompt>& prompts_, ParamValues params_, Progress& progress_,
                                 std::vector<std::string> cached_hooks)
    : model(model_),
      tokenizer(tokenizer_),
      prompts(prompts_),
      params(std::move(params_)),
      progress(progress_),
      cached_hooks_(std::move(cached_hooks)) {}

namespace {
at::Tensor to_tensor(const std::vector<int32_t>& ids) {
    return torch::tensor(std::vector<int64_t>(ids.begin(), ids.end()), torch::kLong).unsqueeze(0);
}
}  // namespace

at::Tensor AnalysisContext::tokens(size_t i) const { return to_tensor(prompts.at(i).ids); }

at::Tensor AnalysisContext::corrupted_tokens(size_t i) const {
    const TokenizedPrompt& p = prompts.at(i);
    if (p.corrupted_ids.empty())
        throw UsageError("prompt " + std::to_string(i) + " has no corrupted counterpart (\"corrupted_prompt\")");
    return to_tensor(p.corrupted_ids);
}

CachedRun AnalysisContext::compute_run(const at::Tensor& batch) {
    if (!cached_hooks_.empty()) return model.run_with_cache(batch, cached_hooks_, {}, logit_positions_);
    CachedRun r;
    r.logits = model.forward(batch, logit_positions_);
    return r;
}

void AnalysisContext::final_position_logits_only() {
    if (!runs_.empty()) throw UsageError("final_position_logits_only: clean runs were already computed with every position");
    logit_positions_ = {-1};
}

const CachedRun& AnalysisContext::clean_run(size_t i) {
    auto it = runs_.find(i);
    if (it != runs_.end()) return it->second;
    torch::NoGradGuard no_grad;
    return runs_.emplace(i, compute_run(tokens(i))).first->second;
}

void AnalysisContext::prefetch_clean_runs(const std::vector<size_t>& which) {
    constexpr size_t kBatchTokens = 4096;
    std::map<size_t, std::vector<size_t>> by_length;  // length -> prompts not computed yet
    for (size_t i : which) {
        const size_t T = prompts.at(i).ids.size();
        if (T > 0 && !runs_.count(i)) by_length[T].push_back(i);
    }
    torch::NoGradGuard no_grad;
    for (auto& [T, members] : by_length) {
        std::sort(members.begin(), members.end());
        members.erase(std::unique(members.begin(), members.end()), members.end());
        const size_t per_batch = std::max<size_t>(1, kBatchTokens / T);
        for (size_t start = 0; start < members.size(); start += per_batch) {
            check_cancelled();
            const size_t end = std::min(members.size(), start + per_batch);
            if (end - start == 1) {
                clean_run(members[start]);
                continue;
            }
            std::vector<at::Tensor> rows;
            for (size_t j = start; j < end; ++j) rows.push_back(tokens(members[j]));
            const at::Tensor batch = torch::cat(rows, 0);
            const int64_t B = batch.size(0);
            const CachedRun run = compute_run(batch);
            // Every cached activation is batch-first; otherwise leave these prompts to clean_run().
            bool batch_first = run.logits.dim() > 0 && run.logits.size(0) == B;
            for (const std::string& name : run.cache.names()) {
                const at::Tensor& t = run.cache.at(name);
                batch_first &= t.dim() > 0 && t.size(0) == B;
            }
            if (!batch_first) continue;
            for (int64_t b = 0; b < B; ++b) {
                CachedRun one;
                // Views of the batch: every prompt of it is kept, so this holds what the prompts' own
                // runs would (no second copy at the peak).
                one.logits = run.logits.narrow(0, b, 1);
                for (const std::string& name : run.cache.names()) one.cache.insert(name, run.cache.at(name).narrow(0, b, 1));
                runs_.emplace(members[start + static_cast<size_t>(b)], std::move(one));
            }
        }
    }
}

void AnalysisContext::check_cancelled() const {
    if (progress.cancelled()) throw Cancelled();
}

void AnalysisContext::step(double fraction, const std::string& message) {
    poll_threads();
    progress.update(fraction, message);
    check_cancelled();
}

}  // namespace headscope
