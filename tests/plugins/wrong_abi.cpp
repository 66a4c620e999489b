// A test plugin that claims another SDK ABI version: the host must refuse it before calling
// its registration (which would abort the test if it ran).
#include <cstdlib>

#include "headscope/sdk/plugin.hpp"

namespace {
void register_analyses(headscope::AnalysisRegistry&) { std::abort(); }
}  // namespace

extern "C" __attribute__((visibility("default"))) const HeadscopePluginInfo* headscope_plugin_info() {
    static const HeadscopePluginInfo info{HEADSCOPE_PLUGIN_ABI_VERSION + 1, "future plugin", "9.9", register_analyses};
    return &info;
}
