// Hugging Face config.json -> ModelConfig for gpt2, gpt_neox and the llama family (llama,
// mistral, qwen2). Missing keys take the defaults of the transformers configuration class of
// that model_type, so a config.json saved with use_diff (defaults omitted) reads as HF reads it.
#include "headscope/formats/hf_config.hpp"

#include <climits>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "formats/hf/config_fields.hpp"
#include "json/json_file.hpp"
#include "headscope/error.hpp"

namespace headscope {

namespace {

using hf_cfg::ConfigFields;
using nlohmann::json;

constexpr const char* kSupportedTypes = "gpt2, gpt_neox, llama, mistral, qwen2";

int divide_exactly(const ConfigFields& f, int num, const char* num_key, int den, const char* den_key) {
    if (num % den != 0)
        f.fail(num_key, fmt::format("{} is not divisible by {} = {}, so heads have no whole size",
                                    num, den_key, den));
    return num / den;
}

struct Rope {
    double theta;
    std::optional<double> partial_factor;  // partial_rotary_factor, when given
    bool partial_nested = false;           // ... inside rope_parameters (transformers v5)
    const char* partial_key() const {
        return partial_nested ? "rope_parameters.partial_rotary_factor" : "partial_rotary_factor";
    }
};

// Reads RoPE settings from the legacy keys and from transformers v5's "rope_parameters".
// Scaled variants (linear, dynamic, yarn, llama3, ...) change the arithmetic and are refused.
Rope read_rope(const ConfigFields& f, const char* legacy_theta_key, double default_theta) {
    auto refuse_scaling = [&](const char* key, const json& j) {
        std::string type = "unknown type";
        for (const char* k : {"rope_type", "type"})
            if (j.is_object() && j.contains(k) && j[k].is_string()) type = j[k].get<std::string>();
        if (type == "default") return;
        f.fail(key, fmt::format("RoPE scaling ({}) is not supported yet: headscope implements plain "
                                "rotary embeddings only, and running this model without its scaling "
                                "would give wrong results",
                                type));
    };
    if (const json* s = f.get("rope_scaling")) refuse_scaling("rope_scaling", *s);

    Rope rope{default_theta, std::nullopt};
    if (f.has(legacy_theta_key)) rope.theta = f.positive_number(legacy_theta_key, default_theta);
    if (f.has("rope_theta")) rope.theta = f.positive_number("rope_theta", default_theta);
    if (f.has("partial_rotary_factor"))
        rope.partial_factor = f.positive_number("partial_rotary_factor", 1.0);

    if (const json* p = f.get("rope_parameters")) {
        if (!p->is_object())
            f.fail("rope_parameters", fmt::format("expected an object, got {}", hf_cfg::describe_json(*p)));
        refuse_scaling("rope_parameters", *p);
        ConfigFields nested(*p, f.origin() + ": rope_parameters");
        if (nested.has("rope_theta")) rope.theta = nested.positive_number("rope_theta", rope.theta);
        if (nested.has("partial_rotary_factor")) {
            rope.partial_factor = nested.positive_number("partial_rotary_factor", 1.0);
            rope.partial_nested = true;
        }
    }
    return rope;
}

Activation gelu_family(const ConfigFields& f, const char* key, const std::string& name) {
    if (name == "gelu") return Activation::gelu;  // exact, erf-based
    // The tanh approximation, under its several transformers names.
    if (name == "gelu_new" || name == "gelu_pytorch_tanh" || name == "gelu_fast")
        return Activation::gelu_new;
    if (name == "relu") return Activation::relu;
    f.fail(key, fmt::format("activation \"{}\" is not supported (supported: gelu, gelu_new, "
                            "gelu_pytorch_tanh, gelu_fast, relu)", name));
}

ModelConfig gpt2_config(const ConfigFields& f) {
    // transformers GPT2Config defaults (GPT-2 small).
    ModelConfig c;
    c.architecture = Architecture::gpt2;
    c.model_type = "gpt2";
    c.d_model = f.integer("n_embd", 768);
    c.n_layers = f.integer("n_layer", 12);
    c.n_heads = f.integer("n_head", 12);
    c.n_kv_heads = c.n_heads;
    c.d_head = divide_exactly(f, c.d_model, "n_embd", c.n_heads, "n_head");
    if (!f.has("n_inner") && c.d_model > INT_MAX / 4)
        f.fail("n_embd", "is too large for the default n_inner = 4 * n_embd");
    c.d_mlp = f.integer("n_inner", 4 * c.d_model);  // null means 4 * n_embd
    c.n_ctx = f.has("n_positions") ? f.context_length("n_positions", 1024) : f.context_length("n_ctx", 1024);
    c.d_vocab = f.integer("vocab_size", 50257);
    c.norm = NormKind::layer;
    c.norm_eps = f.positive_number("layer_norm_epsilon", 1e-5);
    c.positions = PositionKind::learned;
    c.rotary_dim = 0;
    c.gated_mlp = false;
    c.parallel_residual = false;
    c.activation = gelu_family(f, "activation_function", f.string("activation_function", "gelu_new"));
    c.tied_embeddings = f.boolean("tie_word_embeddings", true);
    c.bos_token_id = f.token_id("bos_token_id", 50256);
    c.eos_token_id = f.token_id("eos_token_id", 50256);
    if (!f.boolean("scale_attn_weights", true))
        f.fail("scale_attn_weights", "false (unscaled attention scores) is not supported");
    if (f.boolean("scale_attn_by_inverse_layer_idx", false))
        f.fail("scale_attn_by_inverse_layer_idx", "true is not supported");
    return c;
}

ModelConfig gpt_neox_config(const ConfigFields& f) {
    // transformers GPTNeoXConfig defaults (GPT-NeoX-20B).
    ModelConfig c;
    c.architecture = Architecture::gpt_neox;
    c.model_type = "gpt_neox";
    c.d_model = f.integer("hidden_size", 6144);
    c.n_layers = f.integer("num_hidden_layers", 44);
    c.n_heads = f.integer("num_attention_heads", 64);
    c.n_kv_heads = c.n_heads;
    c.d_head = divide_exactly(f, c.d_model, "hidden_size", c.n_heads, "num_attention_heads");
    c.d_mlp = f.integer("intermediate_size", 24576);
    c.n_ctx = f.context_length("max_position_embeddings", 2048);
    c.d_vocab = f.integer("vocab_size", 50432);
    c.norm = NormKind::layer;
    c.norm_eps = f.positive_number("layer_norm_eps", 1e-5);
    c.positions = PositionKind::rotary;
    c.rotary_style = RotaryStyle::half;

    Rope rope = read_rope(f, "rotary_emb_base", 10000.0);
    c.rope_theta = rope.theta;
    // Fraction of each head that rotates: rotary_pct (transformers v4 name, default 0.25) or
    // partial_rotary_factor (v5; inside rope_parameters wins).
    double pct = 0.25;
    const char* pct_key = "rotary_pct";
    if (!rope.partial_nested && f.has("rotary_pct")) {
        pct = f.positive_number("rotary_pct", 0.25);
    } else if (rope.partial_factor) {
        pct = *rope.partial_factor;
        pct_key = rope.partial_key();
    }
    if (pct > 1.0) f.fail(pct_key, fmt::format("{} is out of range (expected a fraction in (0, 1])", pct));
    c.rotary_dim = static_cast<int>(c.d_head * pct);  // int(head_size * rotary_pct), as transformers
    if (c.rotary_dim <= 0 || c.rotary_dim % 2 != 0)
        f.fail(pct_key, fmt::format("{} gives rotary_dim = int({} * {}) = {}, which must be even "
                                    "and positive", pct, c.d_head, pct, c.rotary_dim));

    c.parallel_residual = f.boolean("use_parallel_residual", true);
    c.gated_mlp = false;
    c.activation = gelu_family(f, "hidden_act", f.string("hidden_act", "gelu"));
    c.tied_embeddings = f.boolean("tie_word_embeddings", false);
    c.bos_token_id = f.token_id("bos_token_id", 0);
    c.eos_token_id = f.token_id("eos_token_id", 2);
    return c;
}

// Defaults of transformers' LlamaConfig, MistralConfig and Qwen2Config.
struct LlamaFamilyDefaults {
    int vocab, hidden, intermediate, layers, heads;
    std::optional<int> kv_heads;  // nullopt: same as heads
    int max_positions;
    int bos, eos;  // -1: none
};

LlamaFamilyDefaults llama_family_defaults(const std::string& type) {
    if (type == "mistral") return {32000, 4096, 14336, 32, 32, 8, 4096 * 32, 1, 2};
    if (type == "qwen2") return {151936, 4096, 22016, 32, 32, 32, 32768, -1, -1};
    return {32000, 4096, 11008, 32, 32, std::nullopt, 2048, 1, 2};  // llama
}

// The window of sliding-window attention, when the config turns it on for any layer.
std::optional<int> sliding_window(const ConfigFields& f, const std::string& type, int n_layers) {
    if (type == "mistral") {
        // Absent -> MistralConfig's default 4096; null -> full attention everywhere.
        if (!f.present("sliding_window")) return 4096;
        return f.optional_integer("sliding_window");
    }
    if (type == "qwen2" && f.boolean("use_sliding_window", false)) {
        // Qwen2 slides only in layers >= max_window_layers.
        if (f.integer("max_window_layers", 28, 0) >= n_layers) return std::nullopt;
        return f.optional_integer("sliding_window");
    }
    return std::nullopt;
}

ModelConfig llama_family_config(const ConfigFields& f, const std::string& type) {
    const LlamaFamilyDefaults d = llama_family_defaults(type);
    ModelConfig c;
    c.architecture = Architecture::llama;
    c.model_type = type;
    c.d_model = f.integer("hidden_size", d.hidden);
    c.n_layers = f.integer("num_hidden_layers", d.layers);
    c.n_heads = f.integer("num_attention_heads", d.heads);
    c.d_mlp = f.integer("intermediate_size", d.intermediate);
    c.d_vocab = f.integer("vocab_size", d.vocab);
    c.n_ctx = f.context_length("max_position_embeddings", d.max_positions);

    // An absent key takes the class default; an explicit null means "same as heads".
    if (f.present("num_key_value_heads")) c.n_kv_heads = f.integer("num_key_value_heads", c.n_heads);
    else c.n_kv_heads = d.kv_heads.value_or(c.n_heads);
    if (c.n_heads % c.n_kv_heads != 0)
        f.fail("num_key_value_heads", fmt::format("{} does not divide num_attention_heads = {}",
                                                  c.n_kv_heads, c.n_heads));
    c.d_head = f.has("head_dim") ? f.integer("head_dim", 0)
                                 : divide_exactly(f, c.d_model, "hidden_size", c.n_heads,
                                                  "num_attention_heads");

    c.norm = NormKind::rms;
    c.norm_eps = f.positive_number("rms_norm_eps", 1e-6);
    c.positions = PositionKind::rotary;
    c.rotary_style = RotaryStyle::half;
    Rope rope = read_rope(f, "rope_theta", 10000.0);
    if (rope.partial_factor && *rope.partial_factor != 1.0)
        f.fail(rope.partial_key(), fmt::format("{} (partial rotary) is not supported for {}",
                                                    *rope.partial_factor, type));
    c.rope_theta = rope.theta;
    c.rotary_dim = c.d_head;

    const std::string act = f.string("hidden_act", "silu");
    if (act != "silu" && act != "swish")
        f.fail("hidden_act", fmt::format("\"{}\" is not supported for {} (expected \"silu\")", act, type));
    c.activation = Activation::silu;
    c.gated_mlp = true;
    c.parallel_residual = false;
    c.tied_embeddings = f.boolean("tie_word_embeddings", false);
    c.bos_token_id = f.token_id("bos_token_id", d.bos);
    c.eos_token_id = f.token_id("eos_token_id", d.eos);

    // Full causal attention equals sliding-window attention up to the window length, so such a
    // model is exact within min(context, window) tokens; n_ctx says so.
    if (auto window = sliding_window(f, type, c.n_layers); window && *window < c.n_ctx)
        c.n_ctx = *window;
    return c;
}

ModelConfig config_from_json(const json& root, const std::string& origin) {
    if (!root.is_object())
        throw FormatError(origin, fmt::format("is a JSON {}, expected an object", root.type_name()));
    ConfigFields f(root, origin);
    if (!f.has("model_type"))
        throw ConfigError(fmt::format("{}: no \"model_type\" key; supported model types: {}", origin,
                                      kSupportedTypes));
    const std::string type = f.string("model_type", "");

    ModelConfig c;
    if (type == "gpt2") c = gpt2_config(f);
    else if (type == "gpt_neox") c = gpt_neox_config(f);
    else if (type == "llama" || type == "mistral" || type == "qwen2") c = llama_family_config(f, type);
    else
        throw ConfigError(fmt::format("{}: model_type \"{}\" is not supported; supported model types: {}",
                                      origin, type, kSupportedTypes));

    if (auto it = root.find("_name_or_path"); it != root.end() && it->is_string())
        c.name = it->get<std::string>();
    try {
        c.validate();
    } catch (const ConfigError& e) {
        throw ConfigError(fmt::format("{}: {}", origin, e.what()));
    }
    return c;
}

}  // namespace

ModelConfig parse_hf_config(const std::string& json_text, const std::string& origin) {
    const json root = json_file::parse(json_text, origin);
    return json_file::guard(origin, [&] { return config_from_json(root, origin); });
}

ModelConfig read_hf_config(const std::string& directory) {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::path path(directory);
    if (!fs::is_regular_file(path, ec)) path /= "config.json";
    const std::string file = path.string();
    if (!fs::is_regular_file(path, ec))
        throw FormatError(file, "missing config.json: a Hugging Face model directory holds "
                                "config.json next to its weights");
    constexpr std::uintmax_t kMaxBytes = 64u << 20;
    if (fs::file_size(path, ec) > kMaxBytes)
        throw FormatError(file, "is larger than 64 MiB; not a model config.json");
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in && !in.eof()) throw IoError(fmt::format("{}: cannot read", file));
    return parse_hf_config(text.str(), file);
}

}  // namespace headscope
