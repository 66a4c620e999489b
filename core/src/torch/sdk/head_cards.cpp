#include <torch/torch.h>

#include <algorithm>
#include <numeric>
#include <set>

#include <fmt/format.h>

#include "headscope/hook_names.hpp"
#include "headscope/report/findings.hpp"
#include "headscope/sdk/analysis_runner.hpp"

namespace headscope {

std::vector<Matrix> head_card_patterns(HookedTransformer& model, const std::vector<TokenizedPrompt>& prompts,
                                       const std::vector<Result>& results) {
    std::vector<Matrix> out;
    const ModelConfig& cfg = model.config();
    std::vector<HeadRef> heads;
    for (const HeadRef& h : card_heads(collect_findings(results)))
        if (h.layer >= 0 && h.layer < cfg.n_layers && h.head >= 0 && h.head < cfg.n_heads) heads.push_back(h);
    if (prompts.empty() || heads.empty()) return out;

    // The representative prompt: median length, the first such prompt on a tie.
    std::vector<size_t> order(prompts.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return prompts[a].ids.size() < prompts[b].ids.size(); });
    const size_t median_len = prompts[order[(order.size() - 1) / 2]].ids.size();
    size_t chosen = 0;
    while (prompts[chosen].ids.size() != median_len) ++chosen;
    const TokenizedPrompt& prompt = prompts[chosen];

    std::set<int> layers;
    for (const HeadRef& h : heads) layers.insert(h.layer);
    std::vector<std::string> filters;
    for (int l : layers) filters.push_back(hook_name("pattern", l));
    torch::NoGradGuard no_grad;
    const torch::Tensor tokens =
        torch::tensor(std::vector<int64_t>(prompt.ids.begin(), prompt.ids.end()), torch::kLong).unsqueeze(0);
    const CachedRun run = model.run_with_cache(tokens, filters, {}, {-1});

    constexpr int64_t kWindow = 64;
    const int64_t T = tokens.size(1), first = std::max<int64_t>(0, T - kWindow), n = T - first;
    std::vector<std::string> labels(prompt.token_texts.begin() + first, prompt.token_texts.end());
    for (const HeadRef& h : heads) {
        const torch::Tensor p = run.cache.at(hook_name("pattern", h.layer))[0][h.head]
                                    .narrow(0, first, n)
                                    .narrow(1, first, n)
                                    .to(torch::kDouble)
                                    .contiguous()
                                    .cpu();
        Matrix m;
        m.key = "pattern_" + head_label(h);
        m.title = "Pattern of " + head_label(h);
        m.description = fmt::format("Attention of {} on prompt {} (the prompt of median length, {} tokens){}; rows are "
                                    "queries, columns keys.",
                                    head_label(h), chosen, T, first > 0 ? fmt::format(", its last {} positions", n) : "");
        m.head = h;
        m.rows = m.cols = static_cast<int>(n);
        m.values.assign(p.data_ptr<double>(), p.data_ptr<double>() + n * n);
        m.row_labels = labels;
        m.col_labels = labels;
        m.row_axis = "query";
        m.col_axis = "key";
        out.push_back(std::move(m));
    }
    return out;
}

}  // namespace headscope
