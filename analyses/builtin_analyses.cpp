#include "builtin_analyses.hpp"

#include "headscope/sdk/analysis.hpp"

namespace headscope {
#define HEADSCOPE_BUILTIN(id) void register_##id(AnalysisRegistry& registry);
#include "builtin_list.inc"
#undef HEADSCOPE_BUILTIN
}  // namespace headscope

namespace {
void register_all(headscope::AnalysisRegistry& registry) {
#define HEADSCOPE_BUILTIN(id) headscope::register_##id(registry);
#include "builtin_list.inc"
#undef HEADSCOPE_BUILTIN
}
}  // namespace

const HeadscopePluginInfo* headscope_builtin_plugin_info() {
    static const HeadscopePluginInfo info{HEADSCOPE_PLUGIN_ABI_VERSION, "headscope built-in analyses", HEADSCOPE_VERSION,
                                          register_all};
    return &info;
}
