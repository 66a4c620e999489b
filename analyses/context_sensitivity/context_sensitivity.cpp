// context_sensitivity: how much each head's output depends on a context segment of the prompt
// (Vision-aware Head Divergence, generalised to text). Every prompt carrying a context is run with
// and without it; the two runs are aligned on the query text (the tokens both end with), and at
// the scored positions each head's output o = z·W_O (its write into the residual stream) is
// compared: divergence = mean ‖o_with − o_without‖₂, relative = mean ‖o_with − o_without‖₂ / ‖o_with‖₂.
#include <torch/torch.h>

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "headscope/hook_names.hpp"
#include "headscope/sdk/analysis.hpp"
#include "headscope/sdk/result_helpers.hpp"

namespace headscope {

namespace {

const char* kZGlob = "blocks.*.attn.hook_z";

// Number of trailing ids two sequences share.
int64_t common_suffix(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
    int64_t n = 0;
    while (n < static_cast<int64_t>(std::min(a.size(), b.size())) && a[a.size() - 1 - static_cast<size_t>(n)] ==
                                                                         b[b.size() - 1 - static_cast<size_t>(n)])
        ++n;
    return n;
}

at::Tensor ids_tensor(const std::vector<int32_t>& ids) {
    return torch::tensor(std::vector<int64_t>(ids.begin(), ids.end()), torch::kLong).unsqueeze(0);
}

// Head outputs o = z·W_O at the last `count` positions of layer l: [count, H, d_model], float64.
at::Tensor head_outputs(const CachedRun& run, const at::Tensor& W_O, int layer, int64_t count) {
    const at::Tensor z = run.cache.at(HookSite::attn_z, layer)[0].to(torch::kCPU, torch::kDouble);  // [T, H, dh]
    return torch::einsum("thd,hdm->thm", {z.narrow(0, z.size(0) - count, count), W_O});
}

std::vector<size_t> ranking(const std::vector<double>& v) {
    std::vector<size_t> order(v.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return v[a] > v[b]; });
    return order;
}

class ContextSensitivity : public Analysis {
public:
    std::string id() const override { return "context_sensitivity"; }
    std::string title() const override { return "Context sensitivity"; }
    std::string version() const override { return "1.0"; }
    std::string description() const override {
        return "Per head, how much its output (z·W_O, what it writes into the residual stream) at the scored positions "
               "changes when the prompt's context segment is removed (Vision-aware Head Divergence, generalised to "
               "text). Prompt lines carry the context as a \"context\" field (placed before the prompt) or as a "
               "<context>…</context> span; the runs with and without it may differ in length and are aligned on the "
               "query text (the tokens both end with). divergence = mean ‖o_with − o_without‖₂, relative_divergence = "
               "the same divided by ‖o_with‖₂. GQA-aware (each query head with its own W_O). To reinforce the most "
               "context-sensitive heads, scale them up with head_intervention mode=scale (scale > 1).";
    }
    std::vector<ParamSpec> parameters() const override {
        return {
            ParamSpec::choice("positions", "last", {"last", "query"},
                              "scored positions: the last token, or every token of the query text shared by both runs"),
            ParamSpec::integer("top_n", 5, "heads listed in the summary and the top_heads table", 1, 1000),
        };
    }
    Result run(AnalysisContext& ctx) override;
};

Result ContextSensitivity::run(AnalysisContext& ctx) {
    torch::NoGradGuard no_grad;
    const ModelConfig& c = ctx.config();
    const int L = c.n_layers, H = c.n_heads;
    const bool last_only = ctx.params.get_text("positions") == "last";
    const bool bos = ctx.tokenizer.bos_id() >= 0;
    std::vector<at::Tensor> W_O;
    for (int l = 0; l < L; ++l) W_O.push_back(ctx.model.weights().layers[static_cast<size_t>(l)].W_O.to(torch::kCPU, torch::kDouble));

    at::Tensor sum_abs = torch::zeros({L, H}, torch::kDouble), sum_rel = torch::zeros({L, H}, torch::kDouble);
    Table per_prompt;
    per_prompt.key = "per_prompt";
    per_prompt.title = "Per prompt";
    per_prompt.description = "Each prompt with a context: tokens with and without it, the aligned query tokens, and the "
                             "head whose output changes most (relative divergence).";
    per_prompt.columns = {"prompt", "text", "context", "tokens_with", "tokens_without", "aligned_tokens",
                          "scored_positions", "top_head", "top_relative_divergence", "top_divergence"};
    size_t used = 0, without_context = 0, unaligned = 0;
    const size_t N = ctx.prompts.size();
    for (size_t i = 0; i < N; ++i) {
        ctx.step(static_cast<double>(i) / static_cast<double>(std::max<size_t>(N, 1)), fmt::format("prompt {}/{}", i + 1, N));
        const TokenizedPrompt& p = ctx.prompts[i];
        if (!p.example.has_context()) {
            ++without_context;
            continue;
        }
        const std::vector<int32_t> without = ctx.tokenizer.encode(p.example.prompt_without_context(), bos).ids;
        const int64_t aligned = common_suffix(p.ids, without);
        if (without.empty() || aligned == 0) {
            ++unaligned;
            continue;
        }
        const int64_t scored = last_only ? 1 : aligned;
        const CachedRun with_run = ctx.model.run_with_cache(ids_tensor(p.ids), {kZGlob});
        const CachedRun without_run = ctx.model.run_with_cache(ids_tensor(without), {kZGlob});
        at::Tensor abs = torch::zeros({L, H}, torch::kDouble), rel = torch::zeros({L, H}, torch::kDouble);
        for (int l = 0; l < L; ++l) {
            const at::Tensor a = head_outputs(with_run, W_O[static_cast<size_t>(l)], l, scored);
            const at::Tensor b = head_outputs(without_run, W_O[static_cast<size_t>(l)], l, scored);
            const at::Tensor diff = (a - b).norm(2, {2});  // [scored, H]
            abs[l] = diff.mean(0);
            rel[l] = (diff / a.norm(2, {2}).clamp_min(1e-12)).mean(0);
        }
        sum_abs += abs;
        sum_rel += rel;
        ++used;
        const int64_t top = rel.flatten().argmax().item<int64_t>();
        per_prompt.rows.push_back({static_cast<int64_t>(i), p.example.prompt, p.example.context,
                                   static_cast<int64_t>(p.ids.size()), static_cast<int64_t>(without.size()), aligned, scored,
                                   head_label(static_cast<int>(top / H), static_cast<int>(top % H)),
                                   rel.flatten()[top].item<double>(), abs.flatten()[top].item<double>()});
    }
    if (used == 0)
        throw UsageError(fmt::format("context_sensitivity: none of the {} prompt(s) has a usable context segment ({} "
                                     "without one, {} whose runs share no final token); give prompt lines a \"context\" "
                                     "field or a <context>…</context> span, e.g. data/prompts/capitals_context.jsonl",
                                     N, without_context, unaligned));
    const at::Tensor mean_abs = (sum_abs / static_cast<double>(used)).flatten().contiguous();
    const at::Tensor mean_rel = (sum_rel / static_cast<double>(used)).flatten().contiguous();
    std::vector<double> abs_v(mean_abs.data_ptr<double>(), mean_abs.data_ptr<double>() + mean_abs.numel());
    std::vector<double> rel_v(mean_rel.data_ptr<double>(), mean_rel.data_ptr<double>() + mean_rel.numel());
    const std::string where = last_only ? "at the last position" : "over the aligned query tokens";

    Result result;
    const std::vector<size_t> order = ranking(rel_v);
    const size_t top_n = std::min<size_t>(static_cast<size_t>(ctx.params.get_int("top_n")), order.size());
    Table top;
    top.key = "top_heads";
    top.title = "Most context-sensitive heads";
    top.description = "Heads ranked by relative divergence of their output with vs without the context.";
    top.columns = {"rank", "head", "relative_divergence", "divergence"};
    std::vector<std::string> top_labels;
    for (size_t r = 0; r < top_n; ++r) {
        const int l = static_cast<int>(order[r]) / H, h = static_cast<int>(order[r]) % H;
        top.rows.push_back({static_cast<int64_t>(r + 1), head_label(l, h), rel_v[order[r]], abs_v[order[r]]});
        top_labels.push_back(fmt::format("{} {:.3f}", head_label(l, h), rel_v[order[r]]));
    }
    result.summary.push_back(fmt::format("{} prompt(s) with a context, scored {}{}", used, where,
                                         without_context + unaligned
                                             ? fmt::format(" ({} skipped: {} without a context, {} unaligned)",
                                                           without_context + unaligned, without_context, unaligned)
                                             : std::string()));
    result.summary.push_back("relative divergence: " + fmt::format("{}", fmt::join(top_labels, ", ")));
    const std::vector<size_t> abs_order = ranking(abs_v);
    std::vector<std::string> abs_labels;
    for (size_t r = 0; r < top_n; ++r)
        abs_labels.push_back(fmt::format("{} {:.3g}", head_label(static_cast<int>(abs_order[r]) / H,
                                                                 static_cast<int>(abs_order[r]) % H),
                                         abs_v[abs_order[r]]));
    result.summary.push_back("divergence: " + fmt::format("{}", fmt::join(abs_labels, ", ")));
    // Top list: the three heads whose output the context changes most (relative to its size).
    for (size_t r = 0; r < std::min<size_t>(3, order.size()); ++r)
        result.roles.push_back(HeadRole{HeadRef{static_cast<int>(order[r]) / H, static_cast<int>(order[r]) % H},
                                        "reads the context", "relative_divergence", rel_v[order[r]]});
    result.headline = fmt::format("Removing the context changes the output of {} most (relative divergence {}), over {} "
                                  "prompt(s) with a context.",
                                  head_label(static_cast<int>(order[0]) / H, static_cast<int>(order[0]) % H),
                                  fmt::format("{:.3f}", rel_v[order[0]]), used);
    result.summary.push_back(fmt::format("reinforce them: --analysis head_intervention --set head_intervention.heads={} "
                                         "--set head_intervention.scale=2",
                                         head_label(static_cast<int>(order[0]) / H, static_cast<int>(order[0]) % H)));

    result.items.push_back(make_head_grid("relative_divergence", "Relative context divergence",
                                          "Mean ‖o_with − o_without‖₂ / ‖o_with‖₂ of the head's output o = z·W_O " + where +
                                              ", with vs without the context segment: 0 when the context does not reach "
                                              "the head.",
                                          L, H, std::move(rel_v)));
    result.items.push_back(make_head_grid("divergence", "Context divergence",
                                          "Mean ‖o_with − o_without‖₂ of the head's output o = z·W_O " + where +
                                              ", with vs without the context segment (residual-stream units).",
                                          L, H, std::move(abs_v)));
    result.items.push_back(std::move(top));
    result.items.push_back(std::move(per_prompt));
    ctx.step(1.0, "done");
    return result;
}

}  // namespace

void register_context_sensitivity(AnalysisRegistry& registry) {
    registry.add([] { return std::make_unique<ContextSensitivity>(); });
}

}  // namespace headscope
