// Typed, defaulted access to the keys of a Hugging Face config.json object. A key that is
// present with the wrong JSON type, or an impossible value, throws ConfigError naming the file
// and the key; an absent key (and, where HF treats it so, a null one) yields the default.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "headscope/model_config.hpp"

namespace headscope::hf_cfg {

class ConfigFields {
public:
    ConfigFields(const nlohmann::json& root, std::string origin)
        : root_(root), origin_(std::move(origin)) {}

    const std::string& origin() const { return origin_; }
    bool present(const char* key) const;       // present, possibly null
    bool has(const char* key) const;           // present and not null
    const nlohmann::json* get(const char* key) const;  // nullptr when absent or null

    // Integer in [min_value, INT_MAX]; absent or null -> fallback.
    int integer(const char* key, int fallback, int min_value = 1) const;
    std::optional<int> optional_integer(const char* key, int min_value = 1) const;
    // A context length in [1, kMaxContextLength]; absent or null -> fallback.
    int context_length(const char* key, int fallback) const;
    // Any finite JSON number > 0; absent or null -> fallback.
    double positive_number(const char* key, double fallback) const;
    bool boolean(const char* key, bool fallback) const;
    std::string string(const char* key, const std::string& fallback) const;
    // A token id: integer >= 0, or a list of them (the first is used), null -> -1.
    int token_id(const char* key, int fallback) const;

    [[noreturn]] void fail(const char* key, const std::string& problem) const;

private:
    const nlohmann::json& root_;
    std::string origin_;
};

// num / den, or ConfigError at num_key when den does not divide num.
int divide_exactly(const ConfigFields& f, int num, const char* num_key, int den, const char* den_key);
// gelu (erf), the tanh approximation under its transformers names, relu; silu/swish when allow_silu.
headscope::Activation activation_named(const ConfigFields& f, const char* key, const std::string& name,
                                       bool allow_silu);
inline headscope::Activation gelu_family(const ConfigFields& f, const char* key, const std::string& name) {
    return activation_named(f, key, name, false);
}

// "string \"768\"", "floating-point number 0.5", ... for error messages.
std::string describe_json(const nlohmann::json& j);

}  // namespace headscope::hf_cfg
