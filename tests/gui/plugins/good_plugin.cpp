// A test plugin: one analysis whose HeadGrid is known by construction (value = 100 * layer +
// head), so a test can check it reaches the GUI's grid through the generic views.
#include <memory>

#include "headscope/sdk/analysis.hpp"
#include "headscope/sdk/plugin.hpp"

namespace {

class HeadIndexAnalysis : public headscope::Analysis {
public:
    std::string id() const override { return "test_head_index"; }
    std::string title() const override { return "Test head index"; }
    std::string version() const override { return "1.2.3"; }
    std::string description() const override { return "100 * layer + head, for the GUI tests."; }
    bool needs_prompts() const override { return false; }
    headscope::Result run(headscope::AnalysisContext& context) override {
        headscope::HeadGrid grid;
        grid.key = "head_index";
        grid.title = "Head index";
        grid.description = "100 * layer + head";
        grid.layers = context.config().n_layers;
        grid.heads = context.config().n_heads;
        for (int l = 0; l < grid.layers; ++l)
            for (int h = 0; h < grid.heads; ++h) grid.values.push_back(100.0 * l + h);
        headscope::Result result;
        result.items.emplace_back(std::move(grid));
        result.summary.push_back("head index grid");
        return result;
    }
};

void register_analyses(headscope::AnalysisRegistry& registry) {
    registry.add([] { return std::make_unique<HeadIndexAnalysis>(); });
}

}  // namespace

HEADSCOPE_PLUGIN("gui test plugin", "1.2.3", register_analyses)
