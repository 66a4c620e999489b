// The built-in analyses as one plugin: register them with
//     headscope::register_plugin(registry, headscope_builtin_plugin_info(), "built-in");
#pragma once

#include "headscope/sdk/plugin.hpp"

const HeadscopePluginInfo* headscope_builtin_plugin_info();
