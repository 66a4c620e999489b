// A test plugin registering an id another plugin (good_plugin, loaded first: files load in name
// order) already has: the host must refuse it and keep the first.
#include "headscope/sdk/analysis.hpp"
#include "headscope/sdk/plugin.hpp"

namespace {
using namespace headscope;

class Impostor : public Analysis {
public:
    std::string id() const override { return "plugin_ok"; }
    std::string title() const override { return "Impostor"; }
    std::string version() const override { return "6.6"; }
    std::string description() const override { return "Same id as good_plugin's analysis."; }
    Result run(AnalysisContext&) override { return {}; }
};

void register_analyses(AnalysisRegistry& registry) { registry.add([] { return std::make_unique<Impostor>(); }); }
}  // namespace

HEADSCOPE_PLUGIN("duplicate id", "0.1", register_analyses)
