// attention_sinks: which key positions soak up attention. The first position (BOS when the
// tokenizer adds one) is the primary sink; later tokens that heads in a range of layers give a
// large share of their attention are secondary sinks. Reports the heads that use them, the mass
// each token receives, and the residual-stream dimensions with massive activations on the sink
// tokens. Shares are defined in sink_statistics.hpp.
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "attention_sinks/sink_statistics.hpp"
#include "headscope/hook_names.hpp"
#include "headscope/sdk/analysis.hpp"
#include "headscope/sdk/result_helpers.hpp"

namespace headscope {

namespace {
using namespace sinks;

std::string head_text(int slot, int H) { return head_label(slot / H, slot % H); }

// "" -> all layers; "2" -> [2, 2]; "1-3" -> [1, 3].
std::pair<int, int> parse_layers(const std::string& text, int n_layers) {
    if (text.empty() || text == "all") return {0, n_layers - 1};
    auto fail = [&] {
        return UsageError(fmt::format("attention_sinks.layers: '{}' is not a layer range; write FIRST-LAST (e.g. 1-3), one "
                                      "layer, or leave it empty for all {} layers",
                                      text, n_layers));
    };
    size_t dash = text.find('-');
    try {
        size_t used = 0;
        int a = std::stoi(text.substr(0, dash), &used);
        if (used != (dash == std::string::npos ? text.size() : dash)) throw fail();
        int b = a;
        if (dash != std::string::npos) {
            b = std::stoi(text.substr(dash + 1), &used);
            if (used != text.size() - dash - 1) throw fail();
        }
        if (a < 0 || b < a || b >= n_layers) throw fail();
        return {a, b};
    } catch (const std::logic_error&) {
        throw fail();
    }
}

class AttentionSinks : public Analysis {
public:
    std::string id() const override { return "attention_sinks"; }
    std::string title() const override { return "Attention sinks"; }
    std::string version() const override { return "1.0"; }
    std::string description() const override {
        return "Key positions that draw a large share of attention: the first token as primary sink, later tokens as "
               "secondary sinks, the heads that use them, and residual dimensions with massive activations on them.";
    }
    std::vector<ParamSpec> parameters() const override {
        return {
            ParamSpec::real("threshold", 0.3,
                            "a head uses a key as a sink when the queries after it give it at least this share of attention on average", 0.0, 1.0),
            ParamSpec::real("min_query_share", 0.25,
                            "a later token is a head's sink only when the queries giving it >= threshold are at least "
                            "this share of the prompt's queries (tokens near the end, seen by few queries, cannot "
                            "qualify by recency)",
                            0.0, 1.0),
            ParamSpec::integer("min_heads", 2,
                               "heads (in the chosen layers) needed to call a later token a secondary sink", 1, 1e9),
            ParamSpec::text("layers", "",
                            "layers searched for secondary sinks: FIRST-LAST, one layer, or empty for all"),
            ParamSpec::real("massive_ratio", 20,
                            "a residual dimension is massive when |value| / median |activation| of its layer reaches this", 1.0, 1e12),
            ParamSpec::integer("max_rows", 20, "rows of the massive-activation table", 1, 100000),
            ParamSpec::integer("token_items", 3, "prompts that get a per-token attention-received item", 0, 1000),
        };
    }
    std::vector<std::string> hooks(const ModelConfig&, const ParamValues&) const override {
        return {"blocks.*.attn.hook_pattern", "blocks.*.hook_resid_post"};
    }
    Result run(AnalysisContext& ctx) override;
};

Result AttentionSinks::run(AnalysisContext& ctx) {
    const ModelConfig& cfg = ctx.config();
    const int L = cfg.n_layers, H = cfg.n_heads;
    const double threshold = ctx.params.get_real("threshold");
    const double min_query_share = ctx.params.get_real("min_query_share");
    const int min_heads = static_cast<int>(ctx.params.get_int("min_heads"));
    const auto [first_layer, last_layer] = parse_layers(ctx.params.get_text("layers"), L);
    const double massive_ratio = ctx.params.get_real("massive_ratio");
    const size_t max_rows = static_cast<size_t>(ctx.params.get_int("max_rows"));
    const size_t token_items = static_cast<size_t>(ctx.params.get_int("token_items"));
    const size_t N = ctx.prompts.size();

    Result result;
    torch::Tensor bos_sum = torch::zeros({L, H}, torch::kDouble), secondary_sum = torch::zeros({L, H}, torch::kDouble);
    size_t scored = 0;
    Table sinks;
    sinks.key = "sinks";
    sinks.title = "Sink positions";
    sinks.description = fmt::format("Per prompt, the first position (primary sink) and every later token that at least {} "
                                    "head(s) of layers {}-{} give a share >= {:g}, held by at least {:g} of the prompt's "
                                    "queries (secondary sinks), with the heads that do.",
                                    min_heads, first_layer, last_layer, threshold, min_query_share);
    sinks.columns = {"prompt", "position", "token", "kind", "heads", "mean_share", "top_heads"};
    std::vector<MassiveActivation> massive;
    std::vector<size_t> massive_prompt;
    double largest_elsewhere = 0;
    std::map<std::string, int> secondary_tokens;  // token text -> prompts where it is a sink
    size_t prompts_with_secondary = 0;

    for (size_t i = 0; i < N; ++i) {
        ctx.step(static_cast<double>(i) / static_cast<double>(N), fmt::format("prompt {}/{}", i + 1, N));
        const CachedRun& run = ctx.clean_run(i);
        const auto& tokens = ctx.prompts[i].token_texts;
        std::vector<torch::Tensor> layers;
        for (int l = 0; l < L; ++l) layers.push_back(run.cache.at(HookSite::attn_pattern, l)[0]);
        torch::Tensor patterns = torch::stack(layers).to(torch::kCPU, torch::kDouble);  // [L, H, T, T]
        const int64_t T = patterns.size(-1);

        if (i < token_items) {
            TokenScores ts;
            ts.key = fmt::format("attention_received_{}", i);
            ts.title = fmt::format("Attention received, prompt {}", i);
            ts.description = "Share of all attention mass each token receives, averaged over every head and query "
                             "(sums to 1 over the tokens).";
            ts.tokens = tokens;
            torch::Tensor mass = mass_received(patterns);
            for (int64_t k = 0; k < T; ++k) ts.scores.push_back(mass[k].item<double>());
            result.items.push_back(std::move(ts));
        }
        if (T < 2) continue;  // one token: nothing can be a sink
        ++scored;
        torch::Tensor shares = key_shares(patterns);  // [L, H, T]
        torch::Tensor bos = shares.select(2, 0);
        bos_sum += bos;

        auto describe_heads = [&](std::vector<std::pair<double, int>> list) {
            std::sort(list.rbegin(), list.rend());
            std::vector<std::string> parts;
            for (size_t j = 0; j < list.size() && j < 5; ++j)
                parts.push_back(fmt::format("{} {:.2f}", head_text(list[j].second, H), list[j].first));
            return fmt::format("{}", fmt::join(parts, ", "));
        };
        {
            std::vector<std::pair<double, int>> users;
            double total = 0;
            for (int s = 0; s < L * H; ++s) {
                const double v = bos[s / H][s % H].item<double>();
                if (v >= threshold) users.push_back({v, s}), total += v;
            }
            sinks.rows.push_back({static_cast<int64_t>(i), int64_t{0}, tokens.empty() ? std::string() : tokens[0],
                                  std::string("primary"), static_cast<int64_t>(users.size()),
                                  users.empty() ? 0.0 : total / static_cast<double>(users.size()), describe_heads(users)});
        }
        std::vector<SecondarySink> secondary =
            find_secondary_sinks(shares, query_support(patterns, threshold), threshold, min_query_share, first_layer,
                                 last_layer, min_heads);
        std::vector<int64_t> sink_positions{0};
        torch::Tensor best = torch::zeros({L, H}, torch::kDouble);
        for (const auto& s : secondary) {
            sink_positions.push_back(s.position);
            best = torch::maximum(best, shares.select(2, s.position));
            std::vector<std::pair<double, int>> users;
            double total = 0;
            for (size_t j = 0; j < s.slots.size(); ++j) users.push_back({s.shares[j], s.slots[j]}), total += s.shares[j];
            const std::string tok = static_cast<size_t>(s.position) < tokens.size() ? tokens[static_cast<size_t>(s.position)] : "";
            sinks.rows.push_back({static_cast<int64_t>(i), s.position, tok, std::string("secondary"),
                                  static_cast<int64_t>(users.size()), total / static_cast<double>(users.size()),
                                  describe_heads(users)});
            ++secondary_tokens[tok];
        }
        prompts_with_secondary += !secondary.empty();
        secondary_sum += best;

        std::vector<torch::Tensor> resid;
        for (int l = 0; l < L; ++l) resid.push_back(run.cache.at(HookSite::resid_post, l)[0]);
        double elsewhere = 0;
        for (auto& m : massive_activations(resid, sink_positions, massive_ratio, &elsewhere)) {
            massive.push_back(m);
            massive_prompt.push_back(i);
        }
        largest_elsewhere = std::max(largest_elsewhere, elsewhere);
    }
    if (scored == 0) throw UsageError("attention_sinks needs prompts of at least two tokens");

    auto grid = [&](std::string key, std::string title, std::string description, const torch::Tensor& sum) {
        const torch::Tensor mean = (sum / static_cast<double>(scored)).contiguous();
        return make_head_grid(std::move(key), std::move(title), std::move(description), L, H,
                              std::vector<double>(mean.data_ptr<double>(), mean.data_ptr<double>() + L * H));
    };
    HeadGrid bos_grid = grid("bos_sink_share", "First-token (BOS) sink share",
                             "Share of attention the queries after the first token give it (mean over those queries, then "
                             "over prompts).",
                             bos_sum);
    HeadGrid sec_grid = grid("secondary_sink_share", "Secondary sink share",
                             "Largest share a head gives to any secondary sink of the prompt (0 when the prompt has none), "
                             "mean over prompts.",
                             secondary_sum);

    // Summary.
    std::vector<std::pair<double, int>> bos_users;
    for (int s = 0; s < L * H; ++s)
        if (bos_grid.values[static_cast<size_t>(s)] >= threshold) bos_users.push_back({bos_grid.values[static_cast<size_t>(s)], s});
    std::sort(bos_users.rbegin(), bos_users.rend());
    std::string strongest;
    for (size_t j = 0; j < bos_users.size() && j < 3; ++j)
        strongest += fmt::format("{}{} {:.2f}", j ? ", " : "", head_text(bos_users[j].second, H), bos_users[j].first);
    result.summary.push_back(fmt::format("primary sink (first token): {} of {} heads give it >= {:g} of their attention on "
                                         "average{}",
                                         bos_users.size(), L * H, threshold, strongest.empty() ? "" : "; strongest " + strongest));
    if (secondary_tokens.empty()) {
        result.summary.push_back(fmt::format("no secondary sinks: no later token draws >= {:g} in {} head(s) of layers {}-{}",
                                             threshold, min_heads, first_layer, last_layer));
    } else {
        std::vector<std::pair<int, std::string>> by_count;
        for (const auto& [tok, n] : secondary_tokens) by_count.push_back({n, tok});
        std::sort(by_count.rbegin(), by_count.rend());
        std::vector<std::string> parts;
        for (size_t j = 0; j < by_count.size() && j < 5; ++j)
            parts.push_back(fmt::format("'{}' ({} time(s))", by_count[j].second, by_count[j].first));
        result.summary.push_back(fmt::format("secondary sinks in {} of {} prompt(s): {}", prompts_with_secondary, scored,
                                             fmt::join(parts, ", ")));
    }

    Table mt;
    mt.key = "massive_activations";
    mt.title = "Massive activations on sink tokens";
    mt.description = fmt::format("Residual-stream dimensions (after each layer) on sink tokens whose |value| is at least {:g} "
                                 "times the median |activation| of that layer's residual stream in the prompt.",
                                 massive_ratio);
    mt.columns = {"layer", "prompt", "position", "token", "dim", "value", "ratio_to_median"};
    std::vector<size_t> order(massive.size());
    for (size_t j = 0; j < order.size(); ++j) order[j] = j;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return massive[a].ratio > massive[b].ratio; });
    for (size_t j = 0; j < order.size() && j < max_rows; ++j) {
        const auto& m = massive[order[j]];
        const auto& toks = ctx.prompts[massive_prompt[order[j]]].token_texts;
        mt.rows.push_back({static_cast<int64_t>(m.layer), static_cast<int64_t>(massive_prompt[order[j]]), m.position,
                           static_cast<size_t>(m.position) < toks.size() ? toks[static_cast<size_t>(m.position)] : std::string(),
                           m.dim, m.value, m.ratio});
    }
    if (massive.empty())
        result.summary.push_back(fmt::format("no massive activations on sink tokens (ratio >= {:g}); largest ratio elsewhere "
                                             "{:.1f}",
                                             massive_ratio, largest_elsewhere));
    else
        result.summary.push_back(fmt::format("massive activations on sink tokens: largest L{} dim {} = {:.3g} ({:.0f}x the "
                                             "median; at most {:.1f}x at other tokens)",
                                             massive[order[0]].layer, massive[order[0]].dim, massive[order[0]].value,
                                             massive[order[0]].ratio, largest_elsewhere));

    // Top lists and the headline of the report's Findings page.
    {
        const auto bos_heads = add_roles(result, bos_grid, "first-token sink head", 3, HeadOrder::highest, threshold);
        const auto sec_heads = add_roles(result, sec_grid, "secondary-sink head", 3, HeadOrder::highest, threshold);
        std::string h = bos_users.empty()
                            ? fmt::format("No head gives the first token {:g} or more of its attention on average", threshold)
                            : fmt::format("{} of {} heads give the first token {:g} or more of their attention (strongest {})",
                                          bos_users.size(), L * H, threshold, heads_sentence(bos_heads, "{:.2f}"));
        if (!secondary_tokens.empty()) {
            std::pair<int, std::string> most{0, ""};
            for (const auto& [tok, n] : secondary_tokens)
                if (n > most.first) most = {n, tok};
            h += fmt::format("; later tokens act as sinks in {} of {} prompt(s), most often '{}' ({} time(s))",
                             prompts_with_secondary, scored, most.second, most.first);
            if (!sec_heads.empty()) h += " for " + heads_sentence(sec_heads, "{:.2f}");
        }
        if (!massive.empty())
            h += fmt::format("; sink tokens carry massive activations (layer {} dim {}: {:.0f}x the median)",
                             massive[order[0]].layer, massive[order[0]].dim, massive[order[0]].ratio);
        result.headline = h + ".";
    }

    result.items.insert(result.items.begin(), ResultItem(std::move(sec_grid)));
    result.items.insert(result.items.begin(), ResultItem(std::move(bos_grid)));
    result.items.push_back(std::move(sinks));
    result.items.push_back(std::move(mt));
    ctx.step(1.0, "done");
    return result;
}

}  // namespace

void register_attention_sinks(AnalysisRegistry& registry) {
    registry.add([] { return std::make_unique<AttentionSinks>(); });
}

}  // namespace headscope
