#include "headscope/model_config.hpp"

#include <algorithm>
#include <cmath>

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
        const auto& r = rope_scaling;
        if (r.kind == RopeScalingKind::longrope) {
            require(static_cast<int>(r.short_factor.size()) == rotary_dim / 2 &&
                        static_cast<int>(r.long_factor.size()) == rotary_dim / 2,
                    fmt::format("longrope short_factor and long_factor need rotary_dim / 2 = {} entries (got {} and {})",
                                rotary_dim / 2, r.short_factor.size(), r.long_factor.size()));
        }
        if (r.kind == RopeScalingKind::freq_factors) {
            require(static_cast<int>(r.freq_factors.size()) == rotary_dim / 2,
                    fmt::format("rotary freq_factors need rotary_dim / 2 = {} entries (got {})", rotary_dim / 2,
                                r.freq_factors.size()));
            for (double f : r.freq_factors)
                require(std::isfinite(f) && f > 0, fmt::format("rotary freq factor {} is not a positive number", f));
        }
        if (r.kind != RopeScalingKind::none && r.kind != RopeScalingKind::longrope &&
            r.kind != RopeScalingKind::freq_factors)
            require(r.factor > 0, fmt::format("rope scaling factor must be positive (got {})", r.factor));
    }
    require(sliding_window.empty() || static_cast<int>(sliding_window.size()) == n_layers,
            fmt::format("sliding_window lists {} layers, the model has {}", sliding_window.size(), n_layers));
    for (int w : sliding_window) require(w >= 0, fmt::format("sliding window {} is negative", w));
    require(attn_softcap >= 0 && final_softcap >= 0, "soft caps must be >= 0");
    if (moe.n_experts > 0) {
        require(moe.top_k >= 1 && moe.top_k <= moe.n_experts,
                fmt::format("experts per token ({}) must be in 1..{} (the expert count)", moe.top_k, moe.n_experts));
        require(moe.d_expert > 0, fmt::format("the experts' width must be positive (got {})", moe.d_expert));
        require(moe.d_shared >= 0, fmt::format("the shared expert's width must be >= 0 (got {})", moe.d_shared));
        require(!attn_only && !parallel_residual && gated_mlp, "mixture-of-experts MLPs need a sequential gated MLP block");
        for (int l : moe.dense_layers)
            require(l >= 0 && l < n_layers, fmt::format("dense MLP layer {} is outside 0..{}", l, n_layers - 1));
    }
    require(moe.n_experts >= 0, fmt::format("the expert count must be >= 0 (got {})", moe.n_experts));
    require(embed_scale > 0, fmt::format("embed_scale must be positive (got {})", embed_scale));
}

bool ModelConfig::is_moe_layer(int layer) const {
    if (moe.n_experts <= 0 || layer < 0 || layer >= n_layers) return false;
    return std::find(moe.dense_layers.begin(), moe.dense_layers.end(), layer) == moe.dense_layers.end();
}

double ModelConfig::query_scale() const {
    return attn_scale > 0 ? attn_scale : 1.0 / std::sqrt(static_cast<double>(d_head));
}

const char* to_string(NormPlacement p) {
    switch (p) {
        case NormPlacement::pre: return "pre";
        case NormPlacement::post: return "post";
        case NormPlacement::sandwich: return "pre+post";
    }
    return "?";
}
const char* to_string(QkNorm q) {
    switch (q) {
        case QkNorm::none: return "none";
        case QkNorm::per_head: return "per-head";
        case QkNorm::full_width: return "full-width";
    }
    return "?";
}
const char* to_string(RopeScalingKind k) {
    switch (k) {
        case RopeScalingKind::none: return "none";
        case RopeScalingKind::linear: return "linear";
        case RopeScalingKind::dynamic: return "dynamic";
        case RopeScalingKind::llama3: return "llama3";
        case RopeScalingKind::yarn: return "yarn";
        case RopeScalingKind::longrope: return "longrope";
        case RopeScalingKind::freq_factors: return "freq_factors";
    }
    return "?";
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
