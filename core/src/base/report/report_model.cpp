#include "report/report_model.hpp"

#include <filesystem>

#include <fmt/format.h>

#include "headscope/report/report.hpp"
#include "report/report_text.hpp"

namespace headscope {

std::string report_title(const ResultsFile& results) {
    const std::string& path = results.provenance.model_path;
    if (path.empty()) return "headscope report";
    std::filesystem::path p(path);
    std::string name = p.filename().string();
    if (name.empty()) name = p.parent_path().filename().string();  // a directory given as "dir/"
    return "headscope report: " + (name.empty() ? path : name);
}

namespace report {

std::vector<std::pair<std::string, std::string>> provenance_rows(const Provenance& p) {
    std::vector<std::pair<std::string, std::string>> rows;
    auto add = [&](const std::string& label, const std::string& value) {
        if (!value.empty()) rows.emplace_back(label, value);
    };
    add("Model", p.model_path);
    add("Model SHA-256", p.model_sha256);
    add("Format", p.model_format);
    add("Architecture", p.architecture);
    std::vector<std::string> facts;
    for (const auto& [k, v] : p.model_facts) facts.push_back(k + " " + v);
    add("Model shape", fmt::format("{}", fmt::join(facts, ", ")));
    add("Prompt source", p.prompt_source);
    add("Prompts", std::to_string(p.prompts.size()));
    add("headscope version", p.headscope_version);
    add("Date (UTC)", p.created_utc);
    add("Command line", p.command_line);
    return rows;
}

std::string parameter_text(const Result& r) {
    if (r.parameters.empty()) return "no parameters";
    std::vector<std::string> parts;
    for (const auto& [k, v] : r.parameters) parts.push_back(k + "=" + v);
    return fmt::format("{}", fmt::join(parts, ", "));
}

std::string cell_text(const Cell& c) {
    if (auto d = std::get_if<double>(&c)) return format_number(*d, 6);
    if (auto i = std::get_if<int64_t>(&c)) return std::to_string(*i);
    return std::get<std::string>(c);
}

bool cell_is_number(const Cell& c) { return !std::holds_alternative<std::string>(c); }

}  // namespace report
}  // namespace headscope
