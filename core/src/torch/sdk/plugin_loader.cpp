// Finding and loading plugins: dlopen each *.so of the search folders, read its
// headscope_plugin_info() entry point and register it through register_plugin(), which checks
// the ABI version and adds nothing when registration throws; each *.py goes through the Python
// bridge (python_plugins.cpp). A refused plugin never stops the others from loading.
#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <system_error>

#include <fmt/format.h>

#include "headscope/sdk/analysis.hpp"
#include "headscope/sdk/plugin_loader.hpp"
#include "python_plugins.hpp"

namespace headscope {

namespace fs = std::filesystem;

namespace {

constexpr const char* kEntryPoint = "headscope_plugin_info";
using EntryPoint = const HeadscopePluginInfo* (*)();

// The folder holding the running executable ("" when /proc is unavailable).
std::string executable_dir() {
    std::error_code ec;
    fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (ec || exe.empty()) return "";
    return exe.parent_path().string();
}

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v ? std::string(v) : std::string();
}

// The user data folder per the XDG base directory spec (a relative XDG_DATA_HOME is ignored).
std::string user_plugin_dir() {
    std::string data = env("XDG_DATA_HOME");
    if (!data.empty() && data.front() == '/') return (fs::path(data) / "headscope" / "plugins").string();
    std::string home = env("HOME");
    if (home.empty()) return "";
    return (fs::path(home) / ".local" / "share" / "headscope" / "plugins").string();
}

// One identity per folder or file, so a path reached twice (symlink, "dir" and "dir/") is used once.
std::string identity(const std::string& path) {
    std::error_code ec;
    fs::path p = fs::weakly_canonical(fs::path(path), ec);
    return ec ? fs::path(path).lexically_normal().string() : p.string();
}

bool is_plugin_file(const fs::directory_entry& entry) {
    std::error_code ec;
    if (!entry.is_regular_file(ec) || ec) return false;
    const std::string name = entry.path().filename().string();
    if (name.front() == '.') return false;
    // Python analyses: *.py, except _helpers.py / __init__.py (modules a plugin may import).
    if (is_python_plugin_path(name)) return name.front() != '_';
    return name.size() > 3 && name.compare(name.size() - 3, 3, ".so") == 0;
}

std::string dl_error(const char* fallback) {
    const char* e = dlerror();
    return e ? std::string(e) : std::string(fallback);
}

PluginLoadReport refused(const std::string& path, std::string why) {
    PluginLoadReport r;
    r.path = path;
    r.error = std::move(why);
    return r;
}

}  // namespace

std::vector<std::string> plugin_search_dirs(const std::vector<std::string>& extra_dirs) {
    std::vector<std::string> candidates(extra_dirs.begin(), extra_dirs.end());
    const std::string path_var = env("HEADSCOPE_PLUGIN_PATH");
    size_t start = 0;
    while (start <= path_var.size()) {
        size_t colon = path_var.find(':', start);
        if (colon == std::string::npos) colon = path_var.size();
        if (colon > start) candidates.push_back(path_var.substr(start, colon - start));
        start = colon + 1;
    }
    const std::string exe_dir = executable_dir();
    if (!exe_dir.empty()) candidates.push_back((fs::path(exe_dir) / "plugins").string());
    const std::string user_dir = user_plugin_dir();
    if (!user_dir.empty()) candidates.push_back(user_dir);

    std::vector<std::string> dirs;
    std::set<std::string> seen;
    for (const auto& d : candidates)
        if (!d.empty() && seen.insert(identity(d)).second) dirs.push_back(d);
    return dirs;
}

PluginLoadReport load_plugin_file(AnalysisRegistry& registry, const std::string& path) {
    if (is_python_plugin_path(path)) {
        std::error_code ec;
        if (!fs::is_regular_file(path, ec)) return refused(path, "no such file");
        return load_python_plugin_file(registry, path);
    }
    dlerror();  // clear any stale message
    // RTLD_NOW: an unresolved symbol refuses the plugin here rather than crashing a run later.
    // RTLD_LOCAL: plugins cannot interpose each other's symbols.
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) return refused(path, "cannot load the library: " + dl_error("dlopen failed"));

    dlerror();
    void* symbol = dlsym(handle, kEntryPoint);
    if (!symbol) {
        std::string why = fmt::format(
            "not a headscope plugin: it exports no '{}' entry point ({}); write HEADSCOPE_PLUGIN(name, version, "
            "register_function) in one source file and build it with headscope_add_analysis()",
            kEntryPoint, dl_error("symbol not found"));
        dlclose(handle);
        return refused(path, why);
    }

    const HeadscopePluginInfo* info = nullptr;
    try {
        info = reinterpret_cast<EntryPoint>(symbol)();
    } catch (const std::exception& e) {
        dlclose(handle);
        return refused(path, std::string("the entry point threw: ") + e.what());
    } catch (...) {
        dlclose(handle);
        return refused(path, "the entry point threw a non-standard exception");
    }

    PluginLoadReport report = register_plugin(registry, info, path);
    report.path = path;
    // A loaded plugin stays mapped for the life of the process: the registry holds factories
    // whose code lives in it. A refused one added nothing and can go.
    if (!report.loaded) dlclose(handle);
    return report;
}

std::vector<PluginLoadReport> load_plugins(AnalysisRegistry& registry, const std::vector<std::string>& extra_dirs) {
    std::vector<PluginLoadReport> reports;
    std::set<std::string> explicit_dirs;
    for (const auto& d : extra_dirs) explicit_dirs.insert(identity(d));
    std::set<std::string> loaded_files;

    for (const std::string& dir : plugin_search_dirs(extra_dirs)) {
        std::error_code ec;
        if (!fs::is_directory(dir, ec)) {
            // The default folders are optional; a folder the user named must exist.
            if (explicit_dirs.count(identity(dir)))
                reports.push_back(
                    refused(dir, fs::exists(dir, ec) ? "--plugin-dir: not a folder" : "--plugin-dir: no such folder"));
            continue;
        }
        std::vector<fs::path> files;
        fs::directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
        if (ec) {
            reports.push_back(refused(dir, "cannot list the plugin folder: " + ec.message()));
            continue;
        }
        for (; it != fs::directory_iterator(); it.increment(ec)) {
            if (ec) break;
            if (is_plugin_file(*it)) files.push_back(it->path());
        }
        if (ec) reports.push_back(refused(dir, "cannot list the plugin folder: " + ec.message()));
        std::sort(files.begin(), files.end());  // a stable, predictable order
        for (const fs::path& f : files) {
            if (!loaded_files.insert(identity(f.string())).second) continue;
            reports.push_back(load_plugin_file(registry, f.string()));
        }
    }
    return reports;
}

}  // namespace headscope
