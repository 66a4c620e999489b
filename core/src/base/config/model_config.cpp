#include "headscope/model_config.hpp"

#include <fmt/format.h>

#include "headscope/error.hpp"
#include "headscope/tensor_source.hpp"

namespace headscope {

namespace {
void require(bool ok, const std::string& what) {
    if (!ok) throw ConfigError("invalid model configuration: " + what);
}
}  // namespace

void ModelConfig::validate() const {
    require(n_layers > 0, fmt::format("n_layers must be positive (got {})", n_layers));
    require(d_model > 0, fmt::format("d_model must be positive (got {})", d_model));
    require(n_heads > 0, fmt::format("n_heads must be positive (got {})", n_heads));
    require(n_kv_heads > 0 && n_heads % n_kv_heads == 0,
            fmt::format("n_kv_heads ({}) must divide n_heads ({})", n_kv_heads, n_heads));
    require(d_head > 0, fmt::format("d_head must be positive (got {})", d_head));
    require(d_vocab > 0, fmt::format("d_vocab must be positive (got {})", d_vocab));
    require(n_ctx > 0 && n_ctx <= kMaxContextLength,
            fmt::format("n_ctx must be in [1, {}] (got {})", kMaxContextLength, n_ctx));
    require(attn_only || d_mlp > 0, fmt::format("d_mlp must be positive (got {})", d_mlp));
    require(norm_eps > 0, fmt::format("norm_eps must be positive (got {})", norm_eps));
    if (positions == PositionKind::rotary) {
        require(rotary_dim > 0 && rotary_dim <= d_head && rotary_dim % 2 == 0,
                fmt::format("rotary_dim ({}) must be even and in (0, d_head={}]", rotary_dim, d_head));
        require(rope_theta > 0, fmt::format("rope_theta must be positive (got {})", rope_theta));
    }
}

const char* to_string(Architecture a) {
    switch (a) {
        case Architecture::llama: return "llama";
        case Architecture::gpt2: return "gpt2";
        case Architecture::gpt_neox: return "gpt_neox";
    }
    return "?";
}
const char* to_string(NormKind n) { return n == NormKind::rms ? "rmsnorm" : "layernorm"; }
const char* to_string(PositionKind p) {
    switch (p) {
        case PositionKind::rotary: return "rotary";
        case PositionKind::learned: return "learned";
        case PositionKind::none: return "none";
    }
    return "?";
}
const char* to_string(RotaryStyle r) { return r == RotaryStyle::interleaved ? "interleaved" : "half"; }
const char* to_string(Activation a) {
    switch (a) {
        case Activation::silu: return "silu";
        case Activation::gelu_new: return "gelu_new";
        case Activation::gelu: return "gelu";
        case Activation::relu: return "relu";
    }
    return "?";
}
const char* to_string(StorageType t) {
    switch (t) {
        case StorageType::f32: return "f32";
        case StorageType::f16: return "f16";
        case StorageType::bf16: return "bf16";
        case StorageType::q8_0: return "q8_0";
        case StorageType::q4_0: return "q4_0";
        case StorageType::q4_K: return "q4_K";
        case StorageType::q6_K: return "q6_K";
    }
    return "?";
}

}  // namespace headscope
