// Analyses written in Python: a .py file in a plugin folder is loaded through the Python bridge
// (libheadscope_python.so next to libheadscope_core.so), which starts an embedded interpreter the
// first time one is found (or joins the running one when the host is Python itself) and registers
// the file's analysis classes. Nothing of Python is loaded while no .py plugin is found.
#pragma once

#include <string>

#include "headscope/sdk/plugin_loader.hpp"

namespace headscope {

bool is_python_plugin_path(const std::string& path);
// Never throws: a file that cannot be loaded is reported with its file, line and traceback.
PluginLoadReport load_python_plugin_file(AnalysisRegistry& registry, const std::string& path);

}  // namespace headscope
