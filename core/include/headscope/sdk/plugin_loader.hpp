// Finding and loading plugins: shared libraries (*.so) and analyses written in Python (*.py, not
// starting with '_'; loaded through an embedded interpreter, see docs/plugins.md). Search order: --plugin-dir directories, HEADSCOPE_PLUGIN_PATH
// (colon-separated), a plugins/ folder next to the executable, then the user data folder
// ($XDG_DATA_HOME/headscope/plugins or ~/.local/share/headscope/plugins).
#pragma once

#include <string>
#include <vector>

#include "headscope/sdk/plugin.hpp"

namespace headscope {

class AnalysisRegistry;

struct PluginLoadReport {
    std::string path;  // library file ("built-in" for the built-ins)
    std::string name;
    std::string version;
    bool loaded = false;
    std::string error;  // why it was refused (wrong ABI, no entry point, registration threw...)
    std::vector<std::string> analyses;  // ids it registered
};

// Registers a plugin from its info (used for the built-ins and for every loaded library).
// Never throws: failures are reported (a registration that throws adds nothing).
PluginLoadReport register_plugin(AnalysisRegistry& registry, const HeadscopePluginInfo* info, const std::string& origin);

std::vector<std::string> plugin_search_dirs(const std::vector<std::string>& extra_dirs);
// Loads every *.so and *.py in the search dirs; one report per file. Never throws.
std::vector<PluginLoadReport> load_plugins(AnalysisRegistry& registry, const std::vector<std::string>& extra_dirs);
PluginLoadReport load_plugin_file(AnalysisRegistry& registry, const std::string& path);

}  // namespace headscope
