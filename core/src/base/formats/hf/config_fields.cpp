#include "formats/hf/config_fields.hpp"

#include <climits>
#include <cmath>

#include <fmt/format.h>

#include "headscope/error.hpp"
#include "headscope/model_config.hpp"

namespace headscope::hf_cfg {

std::string describe_json(const nlohmann::json& j) {
    std::string text = j.dump();
    if (text.size() > 60) text = text.substr(0, 57) + "...";
    const char* kind = j.is_number_float()     ? "floating-point number"
                       : j.is_number_integer() ? "integer"
                                               : j.type_name();
    return fmt::format("{} {}", kind, text);
}

void ConfigFields::fail(const char* key, const std::string& problem) const {
    throw ConfigError(fmt::format("{}: key \"{}\": {}", origin_, key, problem));
}

const nlohmann::json* ConfigFields::get(const char* key) const {
    auto it = root_.find(key);
    if (it == root_.end() || it->is_null()) return nullptr;
    return &*it;
}

bool ConfigFields::has(const char* key) const { return get(key) != nullptr; }
bool ConfigFields::present(const char* key) const { return root_.contains(key); }

std::optional<int> ConfigFields::optional_integer(const char* key, int min_value) const {
    const nlohmann::json* j = get(key);
    if (!j) return std::nullopt;
    if (!j->is_number_integer())
        fail(key, fmt::format("expected an integer, got {}", describe_json(*j)));
    const bool too_big = j->is_number_unsigned() ? j->get<uint64_t>() > static_cast<uint64_t>(INT_MAX)
                                                 : j->get<int64_t>() > INT_MAX;
    const int64_t v = too_big ? 0 : j->get<int64_t>();
    if (too_big || v < min_value)
        fail(key, fmt::format("{} is out of range (expected an integer >= {}{})", j->dump(), min_value,
                              too_big ? fmt::format(" and <= {}", INT_MAX) : ""));
    return static_cast<int>(v);
}

int ConfigFields::integer(const char* key, int fallback, int min_value) const {
    return optional_integer(key, min_value).value_or(fallback);
}

int ConfigFields::context_length(const char* key, int fallback) const {
    const int n = integer(key, fallback);
    if (n > kMaxContextLength)
        fail(key, fmt::format("{} positions is more than headscope accepts (the limit is {} = 2^24)", n,
                              kMaxContextLength));
    return n;
}

double ConfigFields::positive_number(const char* key, double fallback) const {
    const nlohmann::json* j = get(key);
    if (!j) return fallback;
    if (!j->is_number()) fail(key, fmt::format("expected a number, got {}", describe_json(*j)));
    double v = j->get<double>();
    if (!(v > 0) || !std::isfinite(v))
        fail(key, fmt::format("{} is out of range (expected a positive number)", j->dump()));
    return v;
}

bool ConfigFields::boolean(const char* key, bool fallback) const {
    const nlohmann::json* j = get(key);
    if (!j) return fallback;
    if (!j->is_boolean()) fail(key, fmt::format("expected true or false, got {}", describe_json(*j)));
    return j->get<bool>();
}

std::string ConfigFields::string(const char* key, const std::string& fallback) const {
    const nlohmann::json* j = get(key);
    if (!j) return fallback;
    if (!j->is_string()) fail(key, fmt::format("expected a string, got {}", describe_json(*j)));
    return j->get<std::string>();
}

int ConfigFields::token_id(const char* key, int fallback) const {
    auto it = root_.find(key);
    if (it == root_.end()) return fallback;
    const nlohmann::json* j = &*it;
    if (j->is_null()) return -1;
    if (j->is_array()) {  // e.g. Llama 3: "eos_token_id": [128001, 128008, 128009]
        if (j->empty()) return -1;
        j = &j->front();
    }
    if (!j->is_number_integer() || (!j->is_number_unsigned() && j->get<int64_t>() < 0) ||
        (j->is_number_unsigned() && j->get<uint64_t>() > static_cast<uint64_t>(INT_MAX)))
        fail(key, fmt::format("expected a non-negative integer token id, got {}", describe_json(*j)));
    return j->get<int>();
}

int divide_exactly(const ConfigFields& f, int num, const char* num_key, int den, const char* den_key) {
    if (num % den != 0)
        f.fail(num_key, fmt::format("{} is not divisible by {} = {}, so heads have no whole size", num, den_key, den));
    return num / den;
}

headscope::Activation activation_named(const ConfigFields& f, const char* key, const std::string& name,
                                       bool allow_silu) {
    using headscope::Activation;
    if (allow_silu && (name == "silu" || name == "swish")) return Activation::silu;
    if (name == "gelu") return Activation::gelu;  // exact, erf-based
    // The tanh approximation, under its several transformers names.
    if (name == "gelu_new" || name == "gelu_pytorch_tanh" || name == "gelu_fast") return Activation::gelu_new;
    if (name == "relu") return Activation::relu;
    f.fail(key, fmt::format("activation \"{}\" is not supported (supported: {}gelu, gelu_new, gelu_pytorch_tanh, "
                            "gelu_fast, relu)", name, allow_silu ? "silu, " : ""));
}

}  // namespace headscope::hf_cfg
