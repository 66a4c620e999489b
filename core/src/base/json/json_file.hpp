// JSON read from a file (tokenizer.json, tokenizer_config.json, config.json, safetensors
// indexes, prompt files, results metadata): every nlohmann exception — parse_error, and the
// out_of_range/type_error a number like 1e402 or a value of the wrong type raises — becomes a
// FormatError naming the file, so no reader lets one escape as an "unexpected error".
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "headscope/error.hpp"

namespace headscope::json_file {

// Parses `text` read from `file`; a failure is FormatError(file, "<what>: <nlohmann message>").
template <class Json = nlohmann::json>
Json parse(std::string_view text, const std::string& file, const char* what = "not valid JSON") {
    try {
        return Json::parse(text.begin(), text.end());
    } catch (const nlohmann::json::exception& e) {
        throw FormatError(file, std::string(what) + ": " + e.what());
    }
}

// Runs `body` (code that walks parsed JSON of `file`); an nlohmann exception that escapes it
// becomes FormatError(file, "unexpected JSON content: ...").
template <class Body>
decltype(auto) guard(const std::string& file, Body&& body) {
    try {
        return std::forward<Body>(body)();
    } catch (const nlohmann::json::exception& e) {
        throw FormatError(file, std::string("unexpected JSON content: ") + e.what());
    }
}

}  // namespace headscope::json_file
