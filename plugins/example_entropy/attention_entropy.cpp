// An example headscope plugin: how spread out each head's attention is.
//
// For every prompt, layer and head it reads the attention pattern p[q, k] (query q attends to
// key k <= q) and computes, averaged over the query positions q >= first_query:
//   entropy        H(q) = -sum_k p[q,k] ln p[q,k]        (nats; 0 = all attention on one key)
//   mean distance  D(q) =  sum_k p[q,k] (q - k)          (tokens back; 0 = attends to itself)
// then averages the per-prompt means over the prompts (each prompt counts once). With
// normalized=true the entropy of query q is divided by ln(q + 1), its largest possible value,
// so 1 means uniform attention over everything visible.
//
// It returns both as HeadGrids, plus the attention pattern of the most focused head on the
// first prompt as a Matrix. headscope's CLI, GUI and reports show all of it without knowing
// this plugin.
#include <torch/torch.h>

#include <cmath>
#include <sstream>

#include "headscope/hook_names.hpp"
#include "headscope/sdk/analysis.hpp"
#include "headscope/sdk/plugin.hpp"

namespace {

using namespace headscope;

class AttentionEntropy : public Analysis {
public:
    std::string id() const override { return "attention_entropy"; }
    std::string title() const override { return "Attention entropy"; }
    std::string version() const override { return "1.0"; }
    std::string description() const override {
        return "How spread out each head's attention is: the entropy of its attention pattern and the mean distance "
               "back to the keys it attends to, averaged over query positions and prompts.";
    }
    std::vector<ParamSpec> parameters() const override {
        return {
            ParamSpec::integer("first_query", 1,
                               "query positions before this one are left out (position 0 can only attend to itself)", 0, 1e9),
            ParamSpec::boolean("normalized", false,
                               "divide each query's entropy by ln(q + 1), its largest possible value, so that 1 means uniform attention"),
        };
    }
    // Only the attention patterns are cached for clean_run(); nothing else is kept.
    std::vector<std::string> hooks(const ModelConfig& config, const ParamValues&) const override {
        std::vector<std::string> names;
        for (int layer = 0; layer < config.n_layers; ++layer) names.push_back(hook_name("pattern", layer));
        return names;
    }

    Result run(AnalysisContext& ctx) override {
        const ModelConfig& cfg = ctx.config();
        const int64_t first_query = ctx.params.get_int("first_query");
        const bool normalized = ctx.params.get_bool("normalized");
        const int L = cfg.n_layers, H = cfg.n_heads;

        torch::NoGradGuard no_grad;
        torch::Tensor entropy = torch::zeros({L, H}, torch::kDouble);
        torch::Tensor distance = torch::zeros({L, H}, torch::kDouble);
        size_t used = 0;
        for (size_t i = 0; i < ctx.prompts.size(); ++i) {
            // Reports progress and throws Cancelled when the user asked to stop.
            ctx.step(static_cast<double>(i) / static_cast<double>(ctx.prompts.size()),
                     "prompt " + std::to_string(i + 1) + " of " + std::to_string(ctx.prompts.size()));
            const CachedRun& run = ctx.clean_run(i);
            const int64_t T = static_cast<int64_t>(ctx.prompts[i].ids.size());
            if (T <= first_query) continue;  // too short to have any scored query
            torch::Tensor q = torch::arange(first_query, T, torch::kDouble);              // [Q]
            torch::Tensor back = q.unsqueeze(1) - torch::arange(T, torch::kDouble);      // [Q, T]: q - k
            for (int layer = 0; layer < L; ++layer) {
                // [1, H, T, T] -> [H, Q, T] for the scored queries, in double precision.
                torch::Tensor p = run.cache.at(HookSite::attn_pattern, layer)[0].to(torch::kDouble).slice(1, first_query, T);
                torch::Tensor h = -(p * p.clamp_min(1e-300).log()).sum(-1);  // [H, Q]; 0 log 0 = 0
                if (normalized) h = h / (q + 1).log().clamp_min(1e-300);      // q = 0 has max 0: stays 0
                entropy[layer] += h.mean(1);
                distance[layer] += (p * back.clamp_min(0)).sum(-1).mean(1);
            }
            ++used;
        }
        if (used == 0)
            throw UsageError("attention_entropy: every prompt is at most first_query=" + std::to_string(first_query) +
                             " tokens long; use longer prompts or a smaller first_query");
        entropy /= static_cast<double>(used);
        distance /= static_cast<double>(used);

        Result result;
        HeadGrid e;
        e.key = "entropy";
        e.title = normalized ? "Normalized attention entropy" : "Attention entropy";
        e.description = normalized ? "Entropy of each head's attention divided by its maximum ln(q + 1): 0 = one key, "
                                     "1 = uniform over all visible keys."
                                   : "Entropy of each head's attention pattern in nats, averaged over query positions "
                                     "and prompts: low = focused on few keys, high = spread out.";
        e.layers = L;
        e.heads = H;
        e.values.assign(entropy.data_ptr<double>(), entropy.data_ptr<double>() + L * H);
        result.items.push_back(e);

        HeadGrid d;
        d.key = "mean_distance";
        d.title = "Mean attention distance";
        d.description = "How many tokens back each head looks on average (attention-weighted q - k).";
        d.layers = L;
        d.heads = H;
        d.values.assign(distance.data_ptr<double>(), distance.data_ptr<double>() + L * H);
        result.items.push_back(d);

        // The most focused head's pattern on the first prompt, with the tokens as labels.
        const int64_t focused = entropy.flatten().argmin().item<int64_t>();
        const int fl = static_cast<int>(focused / H), fh = static_cast<int>(focused % H);
        const TokenizedPrompt& first = ctx.prompts.front();
        torch::Tensor pattern = ctx.clean_run(0).cache.at(HookSite::attn_pattern, fl)[0][fh].to(torch::kDouble).contiguous();
        Matrix m;
        m.key = "most_focused_pattern";
        m.title = "Attention pattern of " + head_label(fl, fh) + " (lowest entropy)";
        m.head = HeadRef{fl, fh};
        m.description = "Rows are query tokens, columns the keys they attend to, on the first prompt.";
        m.rows = m.cols = static_cast<int>(pattern.size(0));
        m.values.assign(pattern.data_ptr<double>(), pattern.data_ptr<double>() + pattern.numel());
        m.row_labels = m.col_labels = first.token_texts;
        m.row_axis = "query";
        m.col_axis = "key";
        result.items.push_back(m);

        std::ostringstream line;
        line.precision(3);
        line << "Head " << fl << "." << fh << " is the most focused (entropy " << entropy[fl][fh].item<double>()
             << (normalized ? ")" : " nats)") << "; it looks " << distance[fl][fh].item<double>() << " tokens back on average.";
        result.summary.push_back(line.str());
        return result;
    }
};

void register_analyses(AnalysisRegistry& registry) {
    registry.add([] { return std::make_unique<AttentionEntropy>(); });
}

}  // namespace

// The plugin's one exported symbol: its name, version, and the function that registers its
// analyses. The host checks the SDK ABI version before calling anything else.
HEADSCOPE_PLUGIN("example_entropy", "1.0", register_analyses)
