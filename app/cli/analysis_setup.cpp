#include "analysis_setup.hpp"

#include <iostream>

#include "builtin_analyses.hpp"

namespace headscope::cli {

AnalysisSetup make_analysis_setup(const std::vector<std::string>& plugin_dirs) {
    AnalysisSetup setup;
    setup.plugins.push_back(register_plugin(setup.registry, headscope_builtin_plugin_info(), "built-in"));
    for (auto& report : load_plugins(setup.registry, plugin_dirs)) {
        if (!report.loaded) std::cerr << "headscope: warning: plugin " << report.path << " refused: " << report.error << "\n";
        setup.plugins.push_back(std::move(report));
    }
    return setup;
}

}  // namespace headscope::cli
