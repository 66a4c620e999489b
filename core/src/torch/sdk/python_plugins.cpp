// Loading Python analysis plugins through the bridge library, dlopen'ed on demand so the CLI and
// the GUI neither link libpython nor pay for an interpreter unless a .py plugin is found.
#include "python_plugins.hpp"

#include <dlfcn.h>

#include <filesystem>
#include <mutex>

#include <fmt/format.h>

#include "headscope/sdk/analysis.hpp"

#ifndef HEADSCOPE_LIBPYTHON
#define HEADSCOPE_LIBPYTHON ""
#endif

namespace headscope {

namespace fs = std::filesystem;

namespace {

constexpr const char* kBridgeFile = "libheadscope_python.so";
constexpr const char* kBridgeEntry = "headscope_python_load_plugin";
// The bridge's entry point. `identity` is this library's register_plugin: the bridge refuses a
// headscope Python package linked against another copy of headscope's core.
using BridgeEntry = int (*)(AnalysisRegistry* registry, const char* path, PluginLoadReport* report,
                            const void* identity);

struct Bridge {
    BridgeEntry entry = nullptr;
    std::string error;  // why Python plugins cannot be loaded in this process
};

// The folder of libheadscope_core.so (the bridge is built and installed next to it).
std::string core_dir() {
    Dl_info info{};
    if (dladdr(reinterpret_cast<const void*>(&load_python_plugin_file), &info) == 0 || !info.dli_fname) return "";
    return fs::path(info.dli_fname).parent_path().string();
}

Bridge open_bridge() {
    Bridge b;
    const char* override_path = std::getenv("HEADSCOPE_PYTHON_BRIDGE");
    const std::string path = override_path && *override_path ? std::string(override_path)
                                                              : (fs::path(core_dir()) / kBridgeFile).string();
    std::error_code ec;
    if (!fs::exists(path, ec)) {
        b.error = fmt::format("Python plugins need headscope's Python support ({}), which this build does not have "
                              "(build with pybind11-dev and python3-dev installed)",
                              path);
        return b;
    }
    // A host that is not Python itself (the CLI, the GUI) gets libpython now, global, so the
    // extension modules the interpreter loads later (torch, numpy, headscope) resolve against it.
    if (!dlsym(RTLD_DEFAULT, "Py_IsInitialized")) {
        const std::string libpython = HEADSCOPE_LIBPYTHON;
        if (libpython.empty() || !dlopen(libpython.c_str(), RTLD_NOW | RTLD_GLOBAL)) {
            const char* why = dlerror();
            b.error = fmt::format("Python plugins need the Python runtime library {}: {}",
                                  libpython.empty() ? "(unknown to this build)" : libpython,
                                  why ? why : "not found");
            return b;
        }
    }
    dlerror();
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
    if (!handle) {
        const char* why = dlerror();
        b.error = fmt::format("cannot load headscope's Python bridge {}: {}", path, why ? why : "dlopen failed");
        return b;
    }
    b.entry = reinterpret_cast<BridgeEntry>(dlsym(handle, kBridgeEntry));
    if (!b.entry) b.error = fmt::format("{} exports no {}", path, kBridgeEntry);
    return b;
}

const Bridge& bridge() {
    static std::once_flag once;
    static Bridge b;
    std::call_once(once, [] { b = open_bridge(); });
    return b;
}

}  // namespace

bool is_python_plugin_path(const std::string& path) {
    const std::string name = fs::path(path).filename().string();
    return name.size() > 3 && name.compare(name.size() - 3, 3, ".py") == 0;
}

PluginLoadReport load_python_plugin_file(AnalysisRegistry& registry, const std::string& path) {
    PluginLoadReport report;
    report.path = path;
    const Bridge& b = bridge();
    if (!b.entry) {
        report.error = b.error;
        return report;
    }
    try {
        b.entry(&registry, path.c_str(), &report, reinterpret_cast<const void*>(&register_plugin));
    } catch (const std::exception& e) {
        report.loaded = false;
        report.error = e.what();
    } catch (...) {
        report.loaded = false;
        report.error = "the Python bridge threw a non-standard exception";
    }
    report.path = path;
    return report;
}

}  // namespace headscope
