// head_detectors: previous-token, duplicate-token and induction scores of every head, measured
// on generated sequences BOS + R random tokens + the same R tokens (and, when prompts are
// given, also on the prompts).
#include <torch/torch.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <numeric>

#include "head_detectors/pattern_scores.hpp"
#include "head_detectors/repeated_tokens.hpp"
#include "headscope/hook_names.hpp"
#include "headscope/sdk/analysis.hpp"
#include "headscope/sdk/result_helpers.hpp"
#include "headscope/seeded_rng.hpp"

namespace headscope {

namespace {

using detectors::kDuplicate;
using detectors::kInduction;
using detectors::kPrevious;


const char* kPatternGlob = "blocks.*.attn.hook_pattern";

struct Detector {
    const char* key;
    const char* title;
    const char* description;
};
const Detector kDetectors[3] = {
    {"previous_token_score", "Previous-token score",
     "Mean attention from each position to the position right before it."},
    {"duplicate_token_score", "Duplicate-token score",
     "Mean attention from a token to the earlier positions holding the same token (over the tokens that occurred "
     "before)."},
    {"induction_score", "Induction score",
     "Mean attention from a token to the position right after an earlier occurrence of the same token (over the "
     "tokens that occurred before): the pattern of an induction head."},
};

// Sums of the three detectors over every layer: sum [L, 3, H], count [3].
struct Totals {
    at::Tensor sum, count;
};

void accumulate(Totals& t, int layer, const detectors::PatternScores& s) {
    t.sum[layer] += s.sum;
    if (layer == 0) t.count += s.count;
}

class HeadDetectors : public Analysis {
public:
    std::string id() const override { return "head_detectors"; }
    std::string title() const override { return "Head detectors"; }
    std::string version() const override { return "1.0"; }
    std::string description() const override {
        return "Previous-token, duplicate-token and induction scores of every head from its attention patterns, on "
               "generated sequences of BOS + seq_len random tokens + the same seq_len tokens (TransformerLens' "
               "induction test); with prompts, the same scores on the prompts too.";
    }
    std::vector<ParamSpec> parameters() const override {
        return {
            ParamSpec::integer("seq_len", 50, "random tokens per segment (each sequence repeats it once)", 2, 100000),
            ParamSpec::integer("batch", 4, "random sequences", 1, 4096),
            ParamSpec::integer("seed", 0, "seed of the random tokens", 0, 9.0e15),
            ParamSpec::choice("tokens", "trained", {"trained", "all"},
                              "random tokens drawn from: trained (tokens whose embedding row has at least half the norm of the "
                              "99th-percentile row; leaves out rows a model never trained, e.g. the unused vocabulary of a small "
                              "model, on which no head behaves) or all"),
        };
    }
    std::vector<std::string> hooks(const ModelConfig&, const ParamValues&) const override { return {kPatternGlob}; }
    bool needs_prompts() const override { return false; }

    Result run(AnalysisContext& ctx) override {
        torch::NoGradGuard no_grad;
        const ModelConfig& c = ctx.config();
        const int L = c.n_layers, H = c.n_heads;
        const at::Tensor tokens = detectors::random_repeated_tokens(
            ctx.model, ctx.tokenizer, ctx.params.get_int("seq_len"), ctx.params.get_int("batch"),
            static_cast<uint64_t>(ctx.params.get_int("seed")), ctx.params.get_text("tokens") == "trained", "head_detectors");

        Result result;
        ctx.step(0.0, "random repeated sequences");
        Totals random{at::zeros({L, 3, H}, at::kDouble), at::zeros({3}, at::kDouble)};
        {
            CachedRun run = ctx.model.run_with_cache(tokens, {kPatternGlob});
            for (int l = 0; l < L; ++l)
                accumulate(random, l, detectors::pattern_scores(tokens, run.cache.at(HookSite::attn_pattern, l)));
        }
        add_grids(result, random, L, H, "", " Measured on random repeated sequences.");

        if (!ctx.prompts.empty()) {
            Totals prompts{at::zeros({L, 3, H}, at::kDouble), at::zeros({3}, at::kDouble)};
            for (size_t i = 0; i < ctx.prompts.size(); ++i) {
                ctx.step(0.5 + 0.5 * static_cast<double>(i) / static_cast<double>(ctx.prompts.size()),
                         fmt::format("prompt {}/{}", i + 1, ctx.prompts.size()));
                const CachedRun& run = ctx.clean_run(i);
                const at::Tensor t = ctx.tokens(i);
                for (int l = 0; l < L; ++l)
                    accumulate(prompts, l, detectors::pattern_scores(t, run.cache.at(HookSite::attn_pattern, l)));
            }
            add_grids(result, prompts, L, H, "_prompts", " Measured on the prompts.");
        }

        // The random-sequence scores, then the prompt-based ones when prompts were given.
        for (const char* suffix : {"", "_prompts"}) {
            for (int d : {kInduction, kPrevious, kDuplicate}) {
                if (const HeadGrid* g = result.head_grid(kDetectors[d].key + std::string(suffix)))
                    result.summary.push_back(fmt::format("{}: {}", g->title, top_heads_text(*g, 3)));
            }
        }
        add_findings(result);
        ctx.step(1.0, "done");
        return result;
    }

private:
    // Top lists: the heads scoring at least kRoleScore on the random repeated sequences (at most 3
    // per kind), and a headline naming them.
    static constexpr double kRoleScore = 0.3;
    static void add_findings(Result& result) {
        const std::pair<int, const char*> kinds[] = {
            {kInduction, "induction head"}, {kPrevious, "previous-token head"}, {kDuplicate, "duplicate-token head"}};
        std::vector<std::string> found, missing;
        for (const auto& [d, role] : kinds) {
            const HeadGrid* g = result.head_grid(kDetectors[d].key);
            if (!g) continue;
            const auto heads = add_roles(result, *g, role, 3, HeadOrder::highest, kRoleScore);
            if (!heads.empty()) {
                found.push_back(fmt::format("{} {} {}{}", heads_sentence(heads, "{:.2f}"), heads.size() == 1 ? "is a" : "are",
                                            role, heads.size() == 1 ? "" : "s"));
            } else {
                const auto best = top_heads(*g, 1);
                if (!best.empty())
                    missing.push_back(fmt::format("{} {} ({:.2f})", std::string(role).substr(0, std::string(role).size() - 5),
                                                  head_label(best.front().head), best.front().value));
            }
        }
        // Scores are shares of attention on random repeated sequences; a head counts from kRoleScore.
        if (found.empty()) {
            result.headline = fmt::format("On random repeated sequences no head reaches a score of {:g}", kRoleScore);
            if (!missing.empty()) result.headline += fmt::format("; the best are {}", fmt::join(missing, ", "));
        } else {
            result.headline = fmt::format("On random repeated sequences {}", fmt::join(found, "; "));
            if (!missing.empty())
                result.headline += fmt::format("; no other kind reaches {:g} (best {})", kRoleScore, fmt::join(missing, ", "));
        }
        result.headline += ".";
    }

    static void add_grids(Result& result, const Totals& t, int L, int H, const std::string& suffix,
                          const std::string& where) {
        for (int d : {kInduction, kPrevious, kDuplicate}) {
            const double n = t.count[d].item<double>();
            if (n <= 0) continue;  // e.g. no token repeats in any prompt
            const at::Tensor v = (t.sum.select(1, d) / n).contiguous();  // [L, H]
            HeadGrid g;
            g.key = kDetectors[d].key + suffix;
            g.title = kDetectors[d].title + std::string(suffix.empty() ? "" : " (prompts)");
            g.description = kDetectors[d].description + where;
            g.layers = L;
            g.heads = H;
            g.values.assign(v.data_ptr<double>(), v.data_ptr<double>() + v.numel());
            result.items.push_back(std::move(g));
        }
    }

};

}  // namespace

void register_head_detectors(AnalysisRegistry& registry) {
    registry.add([] { return std::make_unique<HeadDetectors>(); });
}

}  // namespace headscope
