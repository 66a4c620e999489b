// The analysis registry as the CLI sets it up: built-ins first (through the plugin path), then
// plugins from --plugin-dir, HEADSCOPE_PLUGIN_PATH, next to the executable, the user data dir.
#pragma once

#include <string>
#include <vector>

#include "headscope/sdk/analysis.hpp"
#include "headscope/sdk/plugin_loader.hpp"

namespace headscope::cli {

struct AnalysisSetup {
    AnalysisRegistry registry;
    std::vector<PluginLoadReport> plugins;  // built-ins first
};

AnalysisSetup make_analysis_setup(const std::vector<std::string>& plugin_dirs);

}  // namespace headscope::cli
