#include "headscope/sdk/prompts.hpp"

#include <fstream>
#include <string_view>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "headscope/error.hpp"
#include "json/json_file.hpp"

namespace headscope {

namespace {
constexpr std::string_view kOpen = "<context>", kClose = "</context>";

// Applies the "context" field or the <context>…</context> markers of one line to `e`.
void read_context(PromptExample& e, const std::string& field, const std::string& path, size_t number) {
    const size_t open = e.prompt.find(kOpen);
    const size_t close = e.prompt.find(kClose);
    if (open == std::string::npos && close == std::string::npos) {
        e.context = field;
        e.context_offset = 0;
        e.prompt = field + e.prompt;
        return;
    }
    if (!field.empty())
        throw FormatError(path, fmt::format("line {}: give the context either as the \"context\" field or as a "
                                            "<context>…</context> span of the prompt, not both",
                                            number));
    if (open == std::string::npos || close == std::string::npos || close < open ||
        e.prompt.find(kOpen, open + 1) != std::string::npos || e.prompt.find(kClose, close + 1) != std::string::npos)
        throw FormatError(path, fmt::format("line {}: the prompt must hold exactly one <context>…</context> span", number));
    const size_t begin = open + kOpen.size();
    e.context = e.prompt.substr(begin, close - begin);
    e.context_offset = open;
    e.prompt = e.prompt.substr(0, open) + e.context + e.prompt.substr(close + kClose.size());
    if (e.context.empty()) throw FormatError(path, fmt::format("line {}: the <context>…</context> span is empty", number));
}
}  // namespace

std::string PromptExample::prompt_without_context() const {
    if (context.empty()) return prompt;
    return prompt.substr(0, context_offset) + prompt.substr(context_offset + context.size());
}

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
        PromptExample e{text("task"), text("prompt"), text("answer"), text("alternative"), text("corrupted_prompt")};
        read_context(e, text("context"), path, number);
        out.push_back(std::move(e));
    }
    if (out.empty()) throw FormatError(path, "the prompt set holds no prompts");
    return out;
}

}  // namespace headscope
