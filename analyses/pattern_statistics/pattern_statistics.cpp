// pattern_statistics: what every head's attention pattern looks like on the prompts, with no
// assumption about what the head does: its share to the first token and to the previous token,
// its mean attention distance and its entropy; and the attention each token receives. Per query
// head, so under grouped-query attention the query heads sharing a key/value head are scored
// apart. The GUI shows these right after a prompt runs; the CLI runs them with
// `--analysis pattern_statistics`.
#include <torch/torch.h>

#include <fmt/format.h>

#include "headscope/hook_names.hpp"
#include "headscope/sdk/analysis.hpp"
#include "headscope/sdk/result_helpers.hpp"

namespace headscope {

namespace {

const char* kPatternGlob = "blocks.*.attn.hook_pattern";

std::vector<double> values_of(const at::Tensor& t) {
    const at::Tensor c = t.to(at::kDouble).contiguous();
    return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

// Per head [L, H] statistics of one prompt's patterns P [L, H, T, T] (T >= 2), each a mean over
// the queries q = 1..T-1 (query 0 can attend only to itself).
struct HeadStats {
    at::Tensor first, previous, distance, entropy;
};

HeadStats head_stats(const at::Tensor& P) {
    const int64_t T = P.size(-1);
    using torch::indexing::Slice;
    const at::Tensor Q = P.index({Slice(), Slice(), Slice(1), Slice()});  // [L, H, T-1, T]
    HeadStats s;
    s.first = Q.select(-1, 0).mean(-1);
    s.previous = P.diagonal(-1, 2, 3).mean(-1);  // P[q, q-1], q = 1..T-1
    const at::Tensor q = torch::arange(1, T, torch::kDouble).unsqueeze(1), k = torch::arange(T, torch::kDouble).unsqueeze(0);
    s.distance = (Q * (q - k).clamp_min(0)).sum(-1).mean(-1);
    s.entropy = -torch::where(Q > 0, Q * Q.clamp_min(1e-300).log(), torch::zeros_like(Q)).sum(-1).mean(-1);
    return s;
}

class PatternStatistics : public Analysis {
public:
    std::string id() const override { return "pattern_statistics"; }
    std::string title() const override { return "Pattern statistics"; }
    std::string version() const override { return "1.0"; }
    std::string description() const override {
        return "Every head's attention share to the first token and to the previous token, its mean attention "
               "distance and its entropy (means over the queries after the first, then over prompts), and the "
               "attention each token of the first prompt receives. Per query head (GQA-aware).";
    }
    std::vector<std::string> hooks(const ModelConfig&, const ParamValues&) const override { return {kPatternGlob}; }
    Result run(AnalysisContext& ctx) override;
};

Result PatternStatistics::run(AnalysisContext& ctx) {
    torch::NoGradGuard no_grad;
    const ModelConfig& cfg = ctx.config();
    const int L = cfg.n_layers, H = cfg.n_heads;
    at::Tensor first = torch::zeros({L, H}, torch::kDouble), previous = torch::zeros({L, H}, torch::kDouble),
               distance = torch::zeros({L, H}, torch::kDouble), entropy = torch::zeros({L, H}, torch::kDouble);
    size_t scored = 0;
    Result result;
    const size_t N = ctx.prompts.size();
    for (size_t i = 0; i < N; ++i) {
        ctx.step(static_cast<double>(i) / static_cast<double>(N), fmt::format("prompt {}/{}", i + 1, N));
        const CachedRun& run = ctx.clean_run(i);
        std::vector<at::Tensor> layers;
        for (int l = 0; l < L; ++l) layers.push_back(run.cache.at(HookSite::attn_pattern, l)[0]);
        const at::Tensor P = torch::stack(layers).to(torch::kCPU, torch::kDouble);  // [L, H, T, T]
        if (P.size(1) != H)
            throw UsageError(fmt::format("pattern_statistics: hook_pattern has {} heads, the model {} query heads",
                                         P.size(1), H));
        const int64_t T = P.size(-1);
        if (i == 0) {
            // Mean attention each token receives from the queries that can see it (q >= k), over
            // every head of every layer.
            const at::Tensor visible = torch::arange(T, 0, -1, torch::kDouble);  // T - k
            const at::Tensor received = P.sum(2).sum(1).sum(0) / (visible * static_cast<double>(L * H));
            TokenScores ts;
            ts.key = "attention_received";
            ts.title = "Attention received";
            ts.description = "Mean attention each token of the first prompt receives from the queries that can see it, "
                             "over every head of every layer.";
            ts.tokens = ctx.prompts[i].token_texts;
            ts.scores = values_of(received);
            result.items.push_back(std::move(ts));
        }
        if (T < 2) continue;  // one token: it can only attend to itself
        const HeadStats s = head_stats(P);
        first += s.first, previous += s.previous, distance += s.distance, entropy += s.entropy;
        ++scored;
    }
    if (scored == 0) throw UsageError("pattern_statistics needs a prompt of at least two tokens");
    const double n = static_cast<double>(scored);
    const std::string over = scored == 1 ? "" : fmt::format(", then over {} prompts", scored);
    HeadGrid grids[] = {
        make_head_grid("first_token_share", "First-token attention",
                       "Mean attention each head pays to the first token (a typical sink), over queries 1..T-1" + over + ".",
                       L, H, values_of(first / n)),
        make_head_grid("previous_token_share", "Previous-token attention",
                       "Mean attention each head pays to the token just before the query" + over + ".", L, H,
                       values_of(previous / n)),
        make_head_grid("mean_attention_distance", "Mean attention distance (tokens)",
                       "Mean over queries q of sum_k P[q, k] * (q - k): how far back the head looks" + over + ".", L, H,
                       values_of(distance / n)),
        make_head_grid("pattern_entropy", "Attention entropy (nats)",
                       "Mean entropy of each head's attention rows, queries 1..T-1: low = focused, high = spread out" +
                           over + ".",
                       L, H, values_of(entropy / n)),
    };
    result.summary.push_back("first-token attention: " + top_heads_text(grids[0], 3));
    result.summary.push_back("previous-token attention: " + top_heads_text(grids[1], 3));
    result.summary.push_back("looks furthest back: " + top_heads_text(grids[2], 3, HeadOrder::highest, "{:.2f}"));
    result.summary.push_back("most focused (lowest entropy): " + top_heads_text(grids[3], 3, HeadOrder::lowest));
    // Top lists: heads giving the first or the previous token at least 0.3 of their attention.
    const auto sinks = add_roles(result, grids[0], "first-token sink head", 3, HeadOrder::highest, 0.3);
    const auto prev_heads = add_roles(result, grids[1], "previous-token head", 3, HeadOrder::highest, 0.3);
    const auto far = top_heads(grids[2], 1);
    result.headline = fmt::format("{}; {}", sinks.empty() ? std::string("No head gives the first token 0.3 of its attention")
                                                         : heads_sentence(sinks, "{:.2f}") + " attend mostly to the first token",
                                  prev_heads.empty() ? std::string("no head gives the previous token 0.3 of its attention")
                                                   : heads_sentence(prev_heads, "{:.2f}") + " to the previous token");
    if (!far.empty())
        result.headline += fmt::format("; {} looks furthest back ({:.1f} tokens on average)", head_label(far[0].head), far[0].value);
    result.headline += ".";
    // Grids first (the GUI's default grid is the first), the per-token scores after.
    std::vector<ResultItem> items(std::begin(grids), std::end(grids));
    for (auto& item : result.items) items.push_back(std::move(item));
    result.items = std::move(items);
    ctx.step(1.0, "done");
    return result;
}

}  // namespace

void register_pattern_statistics(AnalysisRegistry& registry) {
    registry.add([] { return std::make_unique<PatternStatistics>(); });
}

}  // namespace headscope
