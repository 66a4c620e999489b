// headscope analyses [--plugin-dir DIR]... [--json]
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "analysis_setup.hpp"
#include "cli_common.hpp"

namespace headscope::cli {

namespace {
struct AnalysesOptions {
    std::vector<std::string> plugin_dirs;
    bool json = false;
};

void run_analyses(const AnalysesOptions& o) {
    AnalysisSetup setup = make_analysis_setup(o.plugin_dirs);
    if (o.json) {
        nlohmann::ordered_json j;
        for (const auto& a : setup.registry.list()) {
            nlohmann::ordered_json entry{{"id", a.id}, {"title", a.title}, {"version", a.version},
                                         {"description", a.description}, {"origin", a.origin},
                                         {"needs_prompts", a.needs_prompts}};
            for (const auto& p : a.parameters)
                entry["parameters"].push_back({{"name", p.name}, {"type", to_string(p.type)}, {"default", p.default_value},
                                               {"help", p.help}, {"choices", p.choices}});
            j["analyses"].push_back(entry);
        }
        for (const auto& r : setup.plugins)
            j["plugins"].push_back({{"path", r.path}, {"name", r.name}, {"version", r.version}, {"loaded", r.loaded},
                                    {"error", r.error}, {"analyses", r.analyses}});
        std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
        return;
    }
    for (const auto& a : setup.registry.list()) {
        std::cout << fmt::format("{}  — {} (v{}, {})\n", a.id, a.title, a.version, a.origin);
        std::cout << fmt::format("    {}\n", a.description);
        for (const auto& p : a.parameters) {
            std::string type = to_string(p.type);
            if (p.type == ParamType::choice) type = fmt::format("{}", fmt::join(p.choices, "|"));
            std::cout << fmt::format("    --set {}.{}={:<10} ({}) {}\n", a.id, p.name, p.default_value, type, p.help);
        }
        std::cout << "\n";
    }
    for (const auto& r : setup.plugins)
        if (!r.loaded) std::cout << fmt::format("refused plugin {}: {}\n", r.path, r.error);
}
}  // namespace

void register_analyses(CLI::App& app) {
    auto opts = std::make_shared<AnalysesOptions>();
    CLI::App* cmd = app.add_subcommand("analyses", "list every analysis (built-in and plugins) with its parameters");
    cmd->add_option("--plugin-dir", opts->plugin_dirs, "also load plugins from DIR (repeatable)");
    cmd->add_flag("--json", opts->json, "print JSON");
    cmd->callback([opts] { run_analyses(*opts); });
}

}  // namespace headscope::cli
