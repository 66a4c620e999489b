// ModelConfig: everything about a transformer's shape and arithmetic that the forward pass
// needs, independent of the file format it came from. Torch-free.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace headscope {

enum class Architecture { llama, gpt2, gpt_neox };
enum class NormKind { rms, layer };
enum class PositionKind { rotary, learned, none };
// Which dimensions of a head rotate together.
//  interleaved: pairs (2i, 2i+1) — llama2.c, GGUF llama, Meta checkpoints, GPT-J.
//  half:        pairs (i, i + rotary_dim/2) — Hugging Face llama/mistral/qwen2, GPT-NeoX.
enum class RotaryStyle { interleaved, half };
enum class Activation { silu, gelu_new, gelu, relu };

// The longest context a model file may declare: 2^24 = 16,777,216 positions, room for today's
// 1M-10M-token models. Readers refuse larger values (GGUF llama.context_length, config.json
// max_position_embeddings / n_positions, llama.c seq_len) naming the file, key and limit, so an
// absurd number in a header never sizes an allocation.
inline constexpr int kMaxContextLength = 1 << 24;
// Where a block normalises around its attention and MLP sublayers.
//  pre:      x + f(norm(x))                 (GPT-2, Llama, ...)
//  post:     x + norm(f(x))                 (OLMo-2)
//  sandwich: x + post_norm(f(pre_norm(x)))  (Gemma-2, Gemma-3)
enum class NormPlacement { pre, post, sandwich };
// RMSNorm of queries and keys before rotary.
//  per_head:   over each head's d_head dims, one [d_head] weight shared by all heads (Qwen3, Gemma-3)
//  full_width: over all heads' dims together, weights [H * d_head] and [K * d_head] (OLMo-2)
enum class QkNorm { none, per_head, full_width };

// Rotary frequency scaling, as Hugging Face transformers' rope_scaling / rope_parameters.
// freq_factors: each frequency divided by its own factor, stored with the model (GGUF rope_freqs.weight,
// where llama.cpp's converter bakes Llama-3.1's llama3 scaling).
enum class RopeScalingKind { none, linear, dynamic, llama3, yarn, longrope, freq_factors };
struct RopeScaling {
    RopeScalingKind kind = RopeScalingKind::none;
    double factor = 1.0;
    int original_context = 0;  // original_max_position_embeddings (dynamic: max_position_embeddings)
    double low_freq_factor = 1.0, high_freq_factor = 4.0;  // llama3
    double beta_fast = 32.0, beta_slow = 1.0;              // yarn
    bool truncate = true;                                  // yarn: floor/ceil the correction range
    double attention_factor = 1.0;  // yarn, longrope: multiplies cos and sin (resolved at parse)
    std::vector<double> short_factor, long_factor;  // longrope, rotary_dim / 2 each
    std::vector<double> freq_factors;               // freq_factors, rotary_dim / 2
};

// Sparse mixture-of-experts MLP (Mixtral, Qwen2-MoE, Qwen3-MoE, OLMoE): a router picks top_k of
// n_experts SwiGLU experts per token; their outputs are summed with the routing weights
// (softmax over all experts, then top-k, renormalised to sum 1 when normalize_topk).
// n_experts == 0: every MLP is dense.
struct MoeSettings {
    int n_experts = 0;
    int top_k = 0;
    bool normalize_topk = true;  // Mixtral: always; Qwen-MoE / OLMoE: config norm_topk_prob
    int d_expert = 0;            // each expert's hidden width (moe_intermediate_size)
    int d_shared = 0;            // Qwen2-MoE's sigmoid-gated shared expert width; 0 = none
    // Layers with a dense MLP of width d_mlp instead (Qwen-MoE mlp_only_layers /
    // decoder_sparse_step), ascending.
    std::vector<int> dense_layers;
};

struct ModelConfig {
    Architecture architecture = Architecture::llama;
    std::string model_type = "llama";  // as the source names it: llama, mistral, qwen2, gpt2, gpt_neox
    std::string name;                  // free text, e.g. general.name of a GGUF file

    int n_layers = 0;
    int d_model = 0;
    int n_heads = 0;
    int n_kv_heads = 0;  // == n_heads unless grouped-query attention
    int d_head = 0;
    int d_mlp = 0;       // 0 for attention-only models
    int d_vocab = 0;
    int n_ctx = 0;  // at most kMaxContextLength

    NormKind norm = NormKind::rms;
    double norm_eps = 1e-5;

    PositionKind positions = PositionKind::rotary;
    double rope_theta = 10000.0;
    int rotary_dim = 0;  // dims of each head that rotate; d_head unless partial rotary (NeoX)
    RotaryStyle rotary_style = RotaryStyle::interleaved;

    RopeScaling rope_scaling;     // applies to global (non-sliding) layers
    double rope_local_theta = 0;  // Gemma-3: unscaled theta of sliding layers; 0 = rope_theta

    NormPlacement norm_placement = NormPlacement::pre;
    QkNorm qk_norm = QkNorm::none;
    // Gemma stores RMSNorm weights as w and applies (1 + w). Canonical norm weights always hold
    // the applied factor (1 + w), so folding and analyses need no special case; this records
    // the offset for display and export.
    double norm_weight_offset = 0.0;
    double embed_scale = 1.0;    // Gemma: embeddings x sqrt(d_model)
    double attn_scale = 0.0;     // query scale; 0 = 1 / sqrt(d_head) (Gemma-2/3: query_pre_attn_scalar^-0.5)
    double attn_softcap = 0.0;   // scores -> cap * tanh(scores / cap); 0 = none (Gemma-2)
    double final_softcap = 0.0;  // logits -> cap * tanh(logits / cap); 0 = none (Gemma-2)
    // Sliding-window attention per layer: a query sees itself and the window - 1 keys before it.
    // Empty, or 0 for a layer, means global causal attention there.
    std::vector<int> sliding_window;

    MoeSettings moe;  // n_experts > 0: the MLP of every layer not in moe.dense_layers is sparse

    bool parallel_residual = false;  // NeoX: x + attn(ln1(x)) + mlp(ln2(x))
    bool gated_mlp = true;           // SwiGLU: down(act(gate(x)) * up(x))
    Activation activation = Activation::silu;
    bool attn_only = false;
    bool tied_embeddings = false;
    bool final_norm = true;

    int bos_token_id = -1;
    int eos_token_id = -1;

    // Query heads per kv head; query head h reads kv head h / group_size().
    int group_size() const { return n_kv_heads > 0 ? n_heads / n_kv_heads : 1; }
    // The window of layer l; 0 = global.
    int window(int layer) const {
        return layer >= 0 && layer < static_cast<int>(sliding_window.size()) ? sliding_window[static_cast<size_t>(layer)] : 0;
    }
    // Whether layer l's MLP is the sparse mixture of experts.
    bool is_moe_layer(int layer) const;
    double query_scale() const;  // attn_scale, or 1 / sqrt(d_head)
    bool pre_norms() const { return norm_placement != NormPlacement::post; }
    bool post_norms() const { return norm_placement != NormPlacement::pre; }
    // Throws ConfigError naming the first inconsistent field.
    void validate() const;
};

const char* to_string(Architecture a);
const char* to_string(NormKind n);
const char* to_string(PositionKind p);
const char* to_string(RotaryStyle r);
const char* to_string(Activation a);
const char* to_string(NormPlacement p);
const char* to_string(QkNorm q);
const char* to_string(RopeScalingKind k);

}  // namespace headscope
