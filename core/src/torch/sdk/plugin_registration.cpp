#include <fmt/format.h>

#include "headscope/sdk/analysis.hpp"
#include "headscope/sdk/plugin_loader.hpp"

namespace headscope {

PluginLoadReport register_plugin(AnalysisRegistry& registry, const HeadscopePluginInfo* info, const std::string& origin) {
    PluginLoadReport report;
    report.path = origin;
    if (!info) {
        report.error = "the entry point returned no plugin information";
        return report;
    }
    if (info->abi_version != HEADSCOPE_PLUGIN_ABI_VERSION) {
        report.error = fmt::format("built for SDK ABI version {}, this headscope has version {}; rebuild the plugin "
                                   "against this headscope's SDK",
                                   info->abi_version, HEADSCOPE_PLUGIN_ABI_VERSION);
        return report;
    }
    report.name = info->name ? info->name : "";
    report.version = info->version ? info->version : "";
    if (!info->register_analyses) {
        report.error = "the plugin has no register_analyses function";
        return report;
    }
    // Register into a scratch registry, so a plugin that throws halfway adds nothing.
    AnalysisRegistry scratch;
    scratch.set_current_origin(origin);
    try {
        info->register_analyses(scratch);
    } catch (const std::exception& e) {
        report.error = std::string("registration threw: ") + e.what();
        return report;
    } catch (...) {
        report.error = "registration threw a non-standard exception";
        return report;
    }
    std::vector<std::string> ids;
    for (const auto& a : scratch.list()) ids.push_back(a.id);
    try {
        registry.merge(std::move(scratch));
    } catch (const UsageError& e) {
        report.error = e.what();
        return report;
    }
    report.analyses = ids;
    report.loaded = true;
    return report;
}

}  // namespace headscope
