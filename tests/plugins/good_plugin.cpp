// A well-behaved test plugin: "plugin_ok" reports each head's mean attention to the first token.
#include <torch/torch.h>

#include "headscope/hook_names.hpp"
#include "headscope/sdk/analysis.hpp"
#include "headscope/sdk/plugin.hpp"

namespace {
using namespace headscope;

class PluginOk : public Analysis {
public:
    std::string id() const override { return "plugin_ok"; }
    std::string title() const override { return "Plugin probe"; }
    std::string version() const override { return "0.1"; }
    std::string description() const override { return "Mean attention each head gives the first token (test plugin)."; }
    std::vector<std::string> hooks(const ModelConfig&, const ParamValues&) const override { return {"blocks.*.attn.hook_pattern"}; }
    Result run(AnalysisContext& ctx) override {
        const int L = ctx.config().n_layers, H = ctx.config().n_heads;
        HeadGrid g;
        g.key = "first_token_attention";
        g.title = "Attention to the first token";
        g.layers = L;
        g.heads = H;
        const CachedRun& run = ctx.clean_run(0);
        for (int l = 0; l < L; ++l) {
            at::Tensor share = run.cache.at(HookSite::attn_pattern, l)[0].select(-1, 0).mean(-1).to(at::kDouble).contiguous();
            g.values.insert(g.values.end(), share.data_ptr<double>(), share.data_ptr<double>() + H);
        }
        Result r;
        r.items.push_back(g);
        return r;
    }
};

void register_analyses(AnalysisRegistry& registry) { registry.add([] { return std::make_unique<PluginOk>(); }); }
}  // namespace

HEADSCOPE_PLUGIN("good test plugin", "0.1", register_analyses)
