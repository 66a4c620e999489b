// A test plugin whose analysis throws at run time: that analysis gets an error, nothing else.
#include <stdexcept>

#include "headscope/sdk/analysis.hpp"
#include "headscope/sdk/plugin.hpp"

namespace {
using namespace headscope;

class Throws : public Analysis {
public:
    std::string id() const override { return "plugin_throws"; }
    std::string title() const override { return "Always fails"; }
    std::string version() const override { return "0.1"; }
    std::string description() const override { return "Throws from run() (test plugin)."; }
    Result run(AnalysisContext& ctx) override {
        ctx.clean_run(0);  // do some real work first
        throw std::runtime_error("plugin_throws: deliberate failure at run time");
    }
};

void register_analyses(AnalysisRegistry& registry) { registry.add([] { return std::make_unique<Throws>(); }); }
}  // namespace

HEADSCOPE_PLUGIN("throwing run", "0.1", register_analyses)
