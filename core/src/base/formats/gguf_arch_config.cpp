// GgufArchSettings -> ModelConfig: the settings already hold llama.cpp's conventions (rotary layout,
// norms stored with Gemma's +1, per-layer windows); this only renders them in headscope's terms.
#include <cmath>

#include <fmt/format.h>

#include "headscope/error.hpp"
#include "headscope/formats/gguf_arch.hpp"
#include "headscope/formats/gguf_file.hpp"

namespace headscope {

ModelConfig gguf_arch_model_config(const GgufFile& file, const GgufArchSettings& s) {
    auto refuse = [&](const std::string& what) {
        throw ConfigError(fmt::format("{}: {} (architecture {}) is not supported for GGUF files yet", file.path(), what,
                                      s.architecture));
    };
    ModelConfig c;
    c.architecture = Architecture::llama;
    c.model_type = s.family;
    c.name = s.name;
    c.n_layers = s.n_layers;
    c.d_model = s.d_model;
    c.n_heads = s.n_heads;
    c.n_kv_heads = s.n_kv_heads;
    c.d_head = s.d_head;
    c.d_mlp = s.d_mlp;
    c.d_vocab = s.d_vocab;
    c.n_ctx = s.n_ctx;
    c.norm = s.norm;
    c.norm_eps = s.norm_eps;
    c.norm_placement = s.norm_placement == GgufNormPlacement::pre    ? NormPlacement::pre
                       : s.norm_placement == GgufNormPlacement::post ? NormPlacement::post
                                                                     : NormPlacement::sandwich;
    c.qk_norm = s.qk_norm == GgufQkNorm::none ? QkNorm::none
                : s.qk_norm == GgufQkNorm::per_head ? QkNorm::per_head
                                                    : QkNorm::full_width;
    // The file's norm weights already hold 1 + w; the offset is kept for display only.
    c.norm_weight_offset = s.norm_plus_one_stored ? 1.0 : 0.0;
    c.embed_scale = s.scale_embeddings ? std::sqrt(static_cast<double>(s.d_model)) : 1.0;
    // Gemma's GELU is the tanh approximation (gelu_pytorch_tanh), llama.cpp's ggml_gelu.
    c.activation = s.scale_embeddings ? Activation::gelu_new : Activation::silu;
    c.gated_mlp = true;

    c.positions = PositionKind::rotary;
    c.rotary_style = s.rotary_style;
    c.rope_theta = s.rope_theta;
    c.rotary_dim = s.rotary_dim;
    if (s.rope_theta_local) c.rope_local_theta = *s.rope_theta_local;
    const int n_freq = s.rotary_dim / 2;
    if (s.rope_freqs_tensor && s.rope_scaling.type != "none")
        refuse(fmt::format("rope_freqs.weight together with rotary scaling '{}'", s.rope_scaling.type));
    if (s.rope_freqs_tensor) {  // llama.cpp's converters bake llama3 scaling into one divisor per frequency
        c.rope_scaling.kind = RopeScalingKind::freq_factors;
        c.rope_scaling.freq_factors = gguf_rope_factors(file, "rope_freqs.weight", n_freq);
    } else if (s.rope_scaling.type == "linear") {
        c.rope_scaling.kind = RopeScalingKind::linear;
        c.rope_scaling.factor = s.rope_scaling.factor;
    } else if (s.rope_scaling.type == "longrope") {  // phi3: the factors are tensors, chosen by prompt length
        auto& r = c.rope_scaling;
        r.kind = RopeScalingKind::longrope;
        r.long_factor = gguf_rope_factors(file, "rope_factors_long.weight", n_freq);
        r.short_factor = gguf_rope_factors(file, "rope_factors_short.weight", n_freq);
        r.original_context = s.rope_scaling.original_context;
        r.attention_factor = s.rope_scaling.attn_factor;
        if (r.original_context <= 0)
            throw FormatError(file.path(), fmt::format("longrope rotary factors without '{}.rope.scaling."
                                                       "original_context_length'", s.architecture));
    } else if (s.rope_scaling.type != "none") {
        refuse(fmt::format("rope scaling '{}'", s.rope_scaling.type));
    }

    if (s.attention_scale > 0) c.attn_scale = s.attention_scale;
    c.attn_softcap = s.attn_logit_softcap.value_or(0.0);
    c.final_softcap = s.final_logit_softcap.value_or(0.0);
    if (s.sliding_window > 0) {
        c.sliding_window.assign(static_cast<size_t>(s.n_layers), 0);
        for (int l = 0; l < s.n_layers; ++l)
            if (s.sliding_layers[static_cast<size_t>(l)]) c.sliding_window[static_cast<size_t>(l)] = s.sliding_window;
    }

    if (s.is_moe()) {
        if (s.legacy_expert_tensors) refuse("per-expert tensors (blk.N.ffn_gate.E; convert with a current llama.cpp)");
        c.moe.n_experts = s.n_experts;
        c.moe.top_k = s.n_experts_used;
        c.moe.normalize_topk = s.normalize_topk;
        c.moe.d_expert = s.d_expert;
        c.moe.d_shared = s.d_shared_expert;
        if (c.d_mlp == 0) c.d_mlp = s.d_expert;
    }
    c.tied_embeddings = s.tied_embeddings;
    c.bos_token_id = s.bos_token_id;
    c.eos_token_id = s.eos_token_id;
    return c;
}

}  // namespace headscope
