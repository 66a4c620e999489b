// Missing keys take the defaults of the transformers configuration class of that model_type
// (LlamaConfig, MistralConfig, Qwen2Config, Qwen3Config, GemmaConfig, Gemma2Config,
// Gemma3TextConfig, Phi3Config, Olmo2Config, MixtralConfig, Qwen2MoeConfig, Qwen3MoeConfig, OlmoeConfig), so a config.json saved without defaults reads as
// transformers reads it.
#include "formats/hf/decoder_config.hpp"

#include <algorithm>
#include <cmath>
#include <optional>

#include <fmt/format.h>

#include "formats/hf/moe_config.hpp"
#include "formats/hf/rope_config.hpp"

namespace headscope::hf_cfg {

using nlohmann::json;

namespace {

struct FamilyDefaults {
    const char* type;
    int vocab, hidden, intermediate, layers, heads;
    std::optional<int> kv_heads;  // nullopt: same as heads
    std::optional<int> head_dim;  // nullopt: hidden / heads
    int max_positions;
    double eps, theta;
    bool tied;
    int bos, eos;  // -1: none
    const char* act;
};

constexpr const char* kTypes =
    "llama, mistral, qwen2, qwen3, gemma, gemma2, gemma3_text, gemma3, phi3, olmo2, mixtral, qwen2_moe, qwen3_moe, olmoe";

const FamilyDefaults kFamilies[] = {
    {"llama", 32000, 4096, 11008, 32, 32, std::nullopt, std::nullopt, 2048, 1e-6, 10000.0, false, 1, 2, "silu"},
    {"mistral", 32000, 4096, 14336, 32, 32, 8, std::nullopt, 4096 * 32, 1e-6, 10000.0, false, 1, 2, "silu"},
    {"qwen2", 151936, 4096, 22016, 32, 32, 32, std::nullopt, 32768, 1e-6, 10000.0, false, -1, -1, "silu"},
    {"qwen3", 151936, 4096, 22016, 32, 32, 32, 128, 32768, 1e-6, 10000.0, false, -1, -1, "silu"},
    {"gemma", 256000, 3072, 24576, 28, 16, 16, 256, 8192, 1e-6, 10000.0, true, 2, 1, "gelu_pytorch_tanh"},
    {"gemma2", 256000, 2304, 9216, 26, 8, 4, 256, 8192, 1e-6, 10000.0, true, 2, 1, "gelu_pytorch_tanh"},
    {"gemma3_text", 262208, 2304, 9216, 26, 8, 4, 256, 131072, 1e-6, 1000000.0, true, 2, 1, "gelu_pytorch_tanh"},
    {"phi3", 32064, 3072, 8192, 32, 32, std::nullopt, std::nullopt, 4096, 1e-5, 10000.0, false, 1, 32000, "silu"},
    {"olmo2", 50304, 4096, 11008, 32, 32, std::nullopt, std::nullopt, 2048, 1e-5, 10000.0, false, -1, 50279, "silu"},
    // Mixture-of-experts decoders (their MoE keys: moe_config.cpp).
    {"mixtral", 32000, 4096, 14336, 32, 32, 8, std::nullopt, 4096 * 32, 1e-5, 1000000.0, false, 1, 2, "silu"},
    {"qwen2_moe", 151936, 2048, 5632, 24, 16, 16, std::nullopt, 32768, 1e-6, 10000.0, false, -1, -1, "silu"},
    {"qwen3_moe", 151936, 2048, 6144, 24, 32, 4, std::nullopt, 32768, 1e-6, 10000.0, false, -1, -1, "silu"},
    {"olmoe", 50304, 2048, 2048, 16, 16, std::nullopt, std::nullopt, 4096, 1e-5, 10000.0, false, -1, 50279, "silu"},
};

const FamilyDefaults* find_family(const std::string& type) {
    for (const auto& d : kFamilies)
        if (type == d.type) return &d;
    return nullptr;
}

bool is_gemma(const std::string& t) { return t == "gemma" || t == "gemma2" || t == "gemma3_text"; }

// Per-layer window from layer_types ("sliding_attention" / "full_attention"), when given.
std::optional<std::vector<int>> from_layer_types(const ConfigFields& f, int n_layers, int window) {
    const json* lt = f.get("layer_types");
    if (!lt) return std::nullopt;
    if (!lt->is_array() || static_cast<int>(lt->size()) != n_layers)
        f.fail("layer_types", fmt::format("expected a list of {} layer types, got {}", n_layers, describe_json(*lt)));
    std::vector<int> out;
    for (const auto& t : *lt) {
        const std::string s = t.is_string() ? t.get<std::string>() : "";
        if (s == "sliding_attention") out.push_back(window);
        else if (s == "full_attention") out.push_back(0);
        else
            f.fail("layer_types", fmt::format("holds {}; supported layer types: sliding_attention, full_attention",
                                              describe_json(t)));
    }
    return out;
}

// The window of every layer (empty: all global), as each family's attention reads its config.
std::vector<int> layer_windows(const ConfigFields& f, const std::string& type, int n_layers) {
    auto all = [&](std::optional<int> w) { return w ? std::vector<int>(static_cast<size_t>(n_layers), *w) : std::vector<int>{}; };
    if (type == "mistral" || type == "phi3" || type == "mixtral") {
        // Mistral: absent -> 4096, null -> full attention. Phi-3, Mixtral: default None.
        std::optional<int> w = type == "mistral" && !f.present("sliding_window") ? std::optional<int>(4096)
                                                                                 : f.optional_integer("sliding_window");
        if (auto lt = from_layer_types(f, n_layers, w.value_or(0)); lt && w) return *lt;
        return all(w);
    }
    if (type == "qwen2_moe" || type == "qwen3_moe") {
        if (f.boolean("use_sliding_window", false))
            f.fail("use_sliding_window", fmt::format("is true; sliding-window attention is not supported for {} yet", type));
        return {};
    }
    if (type == "qwen2" || type == "qwen3") {
        if (!f.boolean("use_sliding_window", false)) return {};
        std::optional<int> w = f.present("sliding_window") ? f.optional_integer("sliding_window") : std::optional<int>(4096);
        if (!w) return {};
        if (auto lt = from_layer_types(f, n_layers, *w)) return *lt;
        const int from = f.integer("max_window_layers", 28, 0);  // layers >= max_window_layers slide
        std::vector<int> out(static_cast<size_t>(n_layers), 0);
        for (int l = from; l < n_layers; ++l) out[static_cast<size_t>(l)] = *w;
        return out;
    }
    if (type == "gemma2" || type == "gemma3_text") {
        const int w = f.integer("sliding_window", 4096);
        if (auto lt = from_layer_types(f, n_layers, w)) return *lt;
        // Gemma-2: layers 0, 2, 4, ... slide. Gemma-3: all but every sliding_window_pattern-th.
        const int pattern = type == "gemma2" ? 2 : f.integer("sliding_window_pattern", 6);
        std::vector<int> out(static_cast<size_t>(n_layers), 0);
        for (int l = 0; l < n_layers; ++l)
            if ((l + 1) % pattern != 0) out[static_cast<size_t>(l)] = w;
        return out;
    }
    return {};
}

double optional_cap(const ConfigFields& f, const char* key, double fallback) {
    if (f.present(key) && !f.has(key)) return 0.0;  // null: off
    return f.has(key) ? f.positive_number(key, fallback) : fallback;
}

}  // namespace

bool is_decoder_type(const std::string& t) { return find_family(t) != nullptr; }
const char* decoder_types() { return kTypes; }

ModelConfig decoder_config(const ConfigFields& f, const std::string& type) {
    const FamilyDefaults& d = *find_family(type);
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
        f.fail("num_key_value_heads", fmt::format("{} does not divide num_attention_heads = {}", c.n_kv_heads, c.n_heads));
    if (f.has("head_dim")) c.d_head = f.integer("head_dim", 0);
    else if (d.head_dim && !f.present("head_dim")) c.d_head = *d.head_dim;
    else c.d_head = divide_exactly(f, c.d_model, "hidden_size", c.n_heads, "num_attention_heads");

    c.norm = NormKind::rms;
    c.norm_eps = f.positive_number("rms_norm_eps", d.eps);
    c.positions = PositionKind::rotary;
    c.rotary_style = RotaryStyle::half;
    RopeSettings rope = read_rope(f, "rope_theta", d.theta);
    c.rope_theta = rope.theta;
    c.rotary_dim = c.d_head;
    if (rope.partial_factor && *rope.partial_factor != 1.0) {
        if (type != "phi3")
            f.fail(rope.partial_key(), fmt::format("{} (partial rotary) is not supported for {}", *rope.partial_factor, type));
        c.rotary_dim = static_cast<int>(c.d_head * *rope.partial_factor);  // int(head_dim * factor), as transformers
        if (c.rotary_dim <= 0 || c.rotary_dim % 2 != 0 || *rope.partial_factor > 1.0)
            f.fail(rope.partial_key(), fmt::format("{} gives rotary_dim {}, which must be even and in (0, {}]",
                                                   *rope.partial_factor, c.rotary_dim, c.d_head));
    }
    std::optional<int> original;
    if (type == "phi3") original = f.integer("original_max_position_embeddings", 4096);
    c.rope_scaling = resolve_rope_scaling(f, rope, c.n_ctx, original);
    if (c.rope_scaling.kind == RopeScalingKind::longrope && type != "phi3")
        f.fail(rope.scaling_key, "longrope scaling is supported for phi3 only");
    if (c.rope_scaling.kind == RopeScalingKind::dynamic)
        c.n_ctx = static_cast<int>(std::min<double>(c.n_ctx * c.rope_scaling.factor, kMaxContextLength));  // dynamic NTK grows with the prompt

    const bool gemma = is_gemma(type);
    std::string act;
    if (gemma) {
        // Gemma reads hidden_activation; Gemma-1 checkpoints that only say hidden_act "gelu" run the
        // tanh approximation in transformers (hidden_activation defaults to gelu_pytorch_tanh).
        act = f.string("hidden_activation", d.act);
        c.activation = activation_named(f, "hidden_activation", act, false);
    } else {
        act = f.string("hidden_act", d.act);
        c.activation = activation_named(f, "hidden_act", act, true);
        if (c.activation != Activation::silu)
            f.fail("hidden_act", fmt::format("\"{}\" is not supported for {} (expected \"silu\")", act, type));
    }
    c.gated_mlp = true;
    c.parallel_residual = false;
    c.tied_embeddings = f.boolean("tie_word_embeddings", d.tied);
    c.bos_token_id = f.token_id("bos_token_id", d.bos);
    c.eos_token_id = f.token_id("eos_token_id", d.eos);

    if (gemma) {
        c.norm_weight_offset = 1.0;
        c.embed_scale = std::sqrt(static_cast<double>(c.d_model));
    }
    if (type == "gemma2" || type == "gemma3_text") {
        c.norm_placement = NormPlacement::sandwich;
        c.attn_scale = 1.0 / std::sqrt(f.positive_number("query_pre_attn_scalar", 256.0));
        c.attn_softcap = optional_cap(f, "attn_logit_softcapping", type == "gemma2" ? 50.0 : 0.0);
        c.final_softcap = optional_cap(f, "final_logit_softcapping", type == "gemma2" ? 30.0 : 0.0);
    }
    if (type == "gemma3_text") {
        c.qk_norm = QkNorm::per_head;
        c.rope_local_theta = f.positive_number("rope_local_base_freq", 10000.0);
    }
    if (type == "qwen3" || type == "qwen3_moe") c.qk_norm = QkNorm::per_head;
    if (type == "olmoe") {
        c.qk_norm = QkNorm::full_width;  // q_norm over H * d_head, k_norm over K * d_head; pre-norm block
        if (f.has("clip_qkv")) f.fail("clip_qkv", "is set; clamping q/k/v (OLMoE clip_qkv) is not supported yet");
    }
    if (is_moe_type(type)) c.moe = moe_settings(f, type, c.n_layers, c.d_mlp);
    if (type == "olmo2") {
        c.norm_placement = NormPlacement::post;
        c.qk_norm = QkNorm::full_width;
    }
    c.sliding_window = layer_windows(f, type, c.n_layers);
    bool any = false;
    for (int w : c.sliding_window) any = any || w > 0;
    if (!any) c.sliding_window.clear();
    return c;
}

}  // namespace headscope::hf_cfg
