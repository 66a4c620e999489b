// The plugin entry point. A plugin is a shared library exporting
//     extern "C" const HeadscopePluginInfo* headscope_plugin_info();
// (write HEADSCOPE_PLUGIN(...) once in one .cpp). The host reads abi_version first and refuses
// a plugin built against another SDK version before calling anything else in it.
#pragma once

#include <cstdint>

namespace headscope {
class AnalysisRegistry;
}

// Bump whenever a public SDK header changes in a way that breaks binary compatibility.
#define HEADSCOPE_PLUGIN_ABI_VERSION 2u

extern "C" {
struct HeadscopePluginInfo {
    uint32_t abi_version;  // HEADSCOPE_PLUGIN_ABI_VERSION the plugin was built with
    const char* name;
    const char* version;
    void (*register_analyses)(headscope::AnalysisRegistry& registry);
};
}

#define HEADSCOPE_PLUGIN(NAME, VERSION, REGISTER_FN)                                                   \
    extern "C" __attribute__((visibility("default"))) const HeadscopePluginInfo* headscope_plugin_info() { \
        static const HeadscopePluginInfo info{HEADSCOPE_PLUGIN_ABI_VERSION, NAME, VERSION, REGISTER_FN};  \
        return &info;                                                                                 \
    }
