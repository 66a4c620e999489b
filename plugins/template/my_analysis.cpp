// my_analysis: replace this with what your analysis measures. See docs/plugins.md for the SDK.
#include <torch/torch.h>

#include "headscope/hook_names.hpp"
#include "headscope/sdk/analysis.hpp"
#include "headscope/sdk/plugin.hpp"

namespace {

using namespace headscope;

class MyAnalysis : public Analysis {
public:
    std::string id() const override { return "my_analysis"; }  // [a-z0-9_], unique, stable
    std::string title() const override { return "My analysis"; }
    std::string version() const override { return "0.1"; }
    std::string description() const override { return "Each head's largest attention weight, averaged over queries."; }

    std::vector<ParamSpec> parameters() const override {
        return {ParamSpec::integer("first_query", 1, "query positions before this are skipped", 0, 1e9)};
    }

    // The activations clean_run() caches for you; nothing else is kept.
    std::vector<std::string> hooks(const ModelConfig&, const ParamValues&) const override {
        return {"blocks.*.attn.hook_pattern"};
    }

    Result run(AnalysisContext& ctx) override {
        torch::NoGradGuard no_grad;
        const int L = ctx.config().n_layers, H = ctx.config().n_heads;
        const int64_t first_query = ctx.params.get_int("first_query");
        torch::Tensor score = torch::zeros({L, H}, torch::kDouble);
        int64_t used = 0;
        for (size_t i = 0; i < ctx.prompts.size(); ++i) {
            ctx.step(double(i) / double(ctx.prompts.size()), "prompt " + std::to_string(i + 1));  // progress + cancel
            const int64_t T = static_cast<int64_t>(ctx.prompts[i].ids.size());
            if (T <= first_query) continue;
            const CachedRun& run = ctx.clean_run(i);
            for (int l = 0; l < L; ++l) {
                torch::Tensor p = run.cache.at(HookSite::attn_pattern, l)[0].to(torch::kDouble);  // [H, T, T]
                score[l] += std::get<0>(p.slice(1, first_query, T).max(-1)).mean(-1);
            }
            ++used;
        }
        if (used == 0) throw UsageError("my_analysis: every prompt is too short for first_query");
        score /= double(used);

        HeadGrid grid;
        grid.key = "max_attention";
        grid.title = "Largest attention weight";
        grid.description = "Each head's largest attention weight per query, averaged over queries and prompts.";
        grid.layers = L;
        grid.heads = H;
        grid.values.assign(score.data_ptr<double>(), score.data_ptr<double>() + L * H);
        Result result;
        result.items.push_back(grid);
        return result;
    }
};

void register_analyses(AnalysisRegistry& registry) { registry.add([] { return std::make_unique<MyAnalysis>(); }); }

}  // namespace

HEADSCOPE_PLUGIN("my_analysis", "0.1", register_analyses)
