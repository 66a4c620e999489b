// Locating the bundled data folder.
#include "headscope/default_paths.hpp"

#include <cstdlib>
#include <filesystem>
#include <vector>

namespace headscope {

namespace {

namespace fs = std::filesystem;

bool is_dir(const fs::path& p) {
    std::error_code ec;
    return fs::is_directory(p, ec);
}

fs::path installed_data() {
    std::error_code ec;
    fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (ec || exe.empty()) return {};
    return exe.parent_path().parent_path() / "share" / "headscope" / "data";
}

}  // namespace

std::string data_dir() {
    if (const char* env = std::getenv("HEADSCOPE_DATA_DIR"); env != nullptr && *env != '\0') return env;
    std::vector<fs::path> candidates;
#ifdef HEADSCOPE_DATA_DIR_DEFAULT
    candidates.emplace_back(HEADSCOPE_DATA_DIR_DEFAULT);
#endif
    candidates.push_back(installed_data());
    fs::path last;
    for (const fs::path& c : candidates) {
        if (c.empty()) continue;
        if (is_dir(c / "models")) return c.lexically_normal().string();
        last = c;
    }
    return last.empty() ? std::string("data") : last.lexically_normal().string();
}

std::string default_model_path() { return builtin_model_path("tiny-world"); }

std::string builtin_model_path(const std::string& name) { return (fs::path(data_dir()) / "models" / name).string(); }

std::string builtin_prompts_path(const std::string& task) {
    return (fs::path(data_dir()) / "prompts" / (task + ".jsonl")).string();
}

}  // namespace headscope
