#include <torch/torch.h>

#include "headscope/sdk/analysis.hpp"

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

const CachedRun& AnalysisContext::clean_run(size_t i) {
    auto it = runs_.find(i);
    if (it != runs_.end()) return it->second;
    torch::NoGradGuard no_grad;
    CachedRun run;
    if (cached_hooks_.empty())
        run.logits = model.forward(tokens(i));
    else
        run = model.run_with_cache(tokens(i), cached_hooks_);
    return runs_.emplace(i, std::move(run)).first->second;
}

void AnalysisContext::check_cancelled() const {
    if (progress.cancelled()) throw Cancelled();
}

void AnalysisContext::step(double fraction, const std::string& message) {
    progress.update(fraction, message);
    check_cancelled();
}

}  // namespace headscope
