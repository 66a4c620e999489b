// A test plugin whose registration adds one analysis and then throws: the host must refuse it
// and keep none of what it added.
#include <stdexcept>

#include "headscope/sdk/analysis.hpp"
#include "headscope/sdk/plugin.hpp"

namespace {
using namespace headscope;

class Partial : public Analysis {
public:
    std::string id() const override { return "plugin_partial"; }
    std::string title() const override { return "Half-registered"; }
    std::string version() const override { return "0"; }
    std::string description() const override { return "Registered just before the registration throws."; }
    Result run(AnalysisContext&) override { return {}; }
};

void register_analyses(AnalysisRegistry& registry) {
    registry.add([] { return std::make_unique<Partial>(); });
    throw std::runtime_error("cannot find my configuration file");
}
}  // namespace

HEADSCOPE_PLUGIN("throwing registration", "0.1", register_analyses)
