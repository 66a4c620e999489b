#include "headscope/sdk/prompts.hpp"

#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "headscope/error.hpp"
#include "json/json_file.hpp"

namespace headscope {

std::vector<PromptExample> load_prompt_set(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw IoError(path + ": cannot open the prompt set");
    std::vector<PromptExample> out;
    std::string line;
    size_t number = 0;
    while (std::getline(in, line)) {
        ++number;
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        const std::string where = fmt::format("line {}: not valid JSON", number);
        nlohmann::json j = json_file::parse(line, path, where.c_str());
        if (!j.is_object() || !j.contains("prompt") || !j["prompt"].is_string())
            throw FormatError(path, fmt::format("line {}: expected an object with a \"prompt\" string", number));
        auto text = [&](const char* key) -> std::string {
            if (!j.contains(key) || j[key].is_null()) return "";
            if (!j[key].is_string()) throw FormatError(path, fmt::format("line {}: \"{}\" must be a string", number, key));
            return j[key].get<std::string>();
        };
        out.push_back(PromptExample{text("task"), text("prompt"), text("answer"), text("alternative"),
                                    text("corrupted_prompt")});
    }
    if (out.empty()) throw FormatError(path, "the prompt set holds no prompts");
    return out;
}

}  // namespace headscope
