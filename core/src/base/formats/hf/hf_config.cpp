// Hugging Face config.json -> ModelConfig for gpt2 and gpt_neox here, and the RMSNorm decoder
// families (llama, mistral, qwen2/3, gemma 1/2/3, phi3, olmo2) in decoder_config.cpp. Missing keys take the defaults of the transformers configuration class of
// that model_type, so a config.json saved with use_diff (defaults omitted) reads as HF reads it.
#include "headscope/formats/hf_config.hpp"

#include <algorithm>
#include <climits>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "formats/hf/config_fields.hpp"
#include "formats/hf/decoder_config.hpp"
#include "formats/hf/rope_config.hpp"
#include "json/json_file.hpp"
#include "headscope/error.hpp"

namespace headscope {

namespace {

using hf_cfg::ConfigFields;
using nlohmann::json;

using hf_cfg::divide_exactly;
using hf_cfg::gelu_family;

std::string supported_types() { return std::string("gpt2, gpt_neox, ") + hf_cfg::decoder_types(); }

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

    hf_cfg::RopeSettings rope = hf_cfg::read_rope(f, "rotary_emb_base", 10000.0);
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

    c.rope_scaling = hf_cfg::resolve_rope_scaling(f, rope, c.n_ctx, std::nullopt);
    if (c.rope_scaling.kind == RopeScalingKind::dynamic)
        c.n_ctx = static_cast<int>(std::min<double>(c.n_ctx * c.rope_scaling.factor, kMaxContextLength));
    c.parallel_residual = f.boolean("use_parallel_residual", true);
    c.gated_mlp = false;
    c.activation = gelu_family(f, "hidden_act", f.string("hidden_act", "gelu"));
    c.tied_embeddings = f.boolean("tie_word_embeddings", false);
    c.bos_token_id = f.token_id("bos_token_id", 0);
    c.eos_token_id = f.token_id("eos_token_id", 2);
    return c;
}

ModelConfig config_from_json(const json& root, const std::string& origin) {
    if (!root.is_object())
        throw FormatError(origin, fmt::format("is a JSON {}, expected an object", root.type_name()));
    ConfigFields f(root, origin);
    if (!f.has("model_type"))
        throw ConfigError(fmt::format("{}: no \"model_type\" key; supported model types: {}", origin,
                                      supported_types()));
    const std::string type = f.string("model_type", "");

    ModelConfig c;
    if (type == "gpt2") c = gpt2_config(f);
    else if (type == "gpt_neox") c = gpt_neox_config(f);
    else if (hf_cfg::is_decoder_type(type)) c = hf_cfg::decoder_config(f, type);
    else if (type == "gemma3") {
        // Gemma-3 with vision: the language model is text_config (a gemma3_text config whose
        // missing keys take Gemma3TextConfig's defaults); the vision tower is not loaded.
        const json* text = f.get("text_config");
        if (!text || !text->is_object())
            f.fail("text_config", "is required for model_type gemma3 (the language model's configuration)");
        ConfigFields tf(*text, origin + ": text_config");
        c = hf_cfg::decoder_config(tf, "gemma3_text");
        c.model_type = "gemma3";
    } else
        throw ConfigError(fmt::format("{}: model_type \"{}\" is not supported; supported model types: {}",
                                      origin, type, supported_types()));

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
