// GGUF files of every supported family, read the way llama.cpp writes them: the metadata under
// the general.architecture prefix (llama.cpp's LLM_KV_* keys) becomes a plain settings struct,
// and GGUF tensor names (llama.cpp's LLM_TENSOR_NAMES: token_embd, blk.N.attn_q, ...) map to
// headscope's canonical names (embed.W_E, blocks.N.attn.W_Q, ...). Torch-free; the loader
// turns these into ModelConfig + weights.
//
// Conventions of the converted files that the loader must undo or honour:
//  - rotary_style: "llama" (also Mistral and Mixtral, which llama.cpp stores as llama) has q/k
//    rows permuted for interleaved (adjacent-pair) rotation; every other family here keeps HF's
//    half-split (NeoX) layout.
//  - norm_plus_one_stored: Gemma, Gemma 2 and Gemma 3 files hold RMSNorm weights with the 1 of
//    HF's (1 + w) already added (q/k norms included), so x * w_file is the whole scale.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "headscope/model_config.hpp"

namespace headscope {

class GgufFile;

enum class GgufNormPlacement {
    pre,           // x + f(norm(x))                     (llama, qwen, phi3, olmoe, gemma)
    post,          // x + norm(f(x))                     (olmo2)
    pre_and_post,  // x + post_norm(f(norm(x)))          (gemma2, gemma3)
};
enum class GgufQkNorm {
    none,
    per_head,    // RMSNorm over each head's d_head values (qwen3, qwen3moe, gemma3)
    full_width,  // RMSNorm over all heads at once, [H*d_head] / [K*d_head] (olmo2, olmoe)
};

struct GgufRopeScaling {
    std::string type = "none";  // {arch}.rope.scaling.type: none, linear, yarn, longrope
    double factor = 1.0;
    int original_context = 0;   // rope.scaling.original_context_length
    double attn_factor = 1.0;   // rope.scaling.attn_factor
};

struct GgufArchSettings {
    std::string architecture;  // general.architecture: llama, gemma2, qwen3moe, ...
    std::string family;        // HF model_type: llama, mixtral, gemma2, qwen3_moe, ...
    std::string name;          // general.name

    int n_layers = 0, d_model = 0, n_heads = 0, n_kv_heads = 0, d_head = 0, d_mlp = 0, n_ctx = 0;
    int d_vocab = 0;
    NormKind norm = NormKind::rms;
    double norm_eps = 1e-5;
    GgufNormPlacement norm_placement = GgufNormPlacement::pre;
    bool norm_plus_one_stored = false;  // see the header comment
    bool scale_embeddings = false;      // gemma*: embeddings times sqrt(d_model)
    Activation activation = Activation::silu;  // gemma*: gelu (tanh approximation)
    bool qkv_bias = false;                     // qwen2, qwen2moe
    GgufQkNorm qk_norm = GgufQkNorm::none;
    bool fused_qkv = false;      // phi3: blk.N.attn_qkv = [q; k; v] rows
    bool fused_gate_up = false;  // phi3: blk.N.ffn_up = [gate; up] rows (2 * d_mlp)

    RotaryStyle rotary_style = RotaryStyle::half;
    double rope_theta = 10000.0;
    int rotary_dim = 0;
    std::optional<double> rope_theta_local;  // gemma3: sliding-window layers rotate with 10000
    GgufRopeScaling rope_scaling;
    bool rope_freqs_tensor = false;  // llama 3.1-style factors stored as rope_freqs.weight

    double attention_scale = 0;  // multiplies q·k; 1/sqrt(d_head) except gemma2/3 27B
    std::optional<double> attn_logit_softcap;   // {arch}.attn_logit_softcapping
    std::optional<double> final_logit_softcap;  // {arch}.final_logit_softcapping
    int sliding_window = 0;                     // {arch}.attention.sliding_window; 0: none
    std::vector<bool> sliding_layers;           // per layer: attends within the window

    // Mixture of experts (n_experts == 0 for dense models).
    int n_experts = 0;       // {arch}.expert_count
    int n_experts_used = 0;  // {arch}.expert_used_count (top-k)
    int d_expert = 0;        // expert_feed_forward_length, else feed_forward_length
    int d_shared_expert = 0; // expert_shared_feed_forward_length (qwen2moe); 0: no shared expert
    bool normalize_topk = false;  // renormalise the top-k softmax weights (mixtral, qwen3moe)
    bool legacy_expert_tensors = false;  // per-expert blk.N.ffn_gate.E.weight instead of stacked

    bool tied_embeddings = false;  // no output.weight
    int bos_token_id = -1, eos_token_id = -1;

    bool is_moe() const { return n_experts > 0; }
};

// The architectures gguf_arch_settings reads ("llama, gemma, gemma2, ...").
std::string gguf_supported_architectures();

// Reads and checks the metadata and the tensor directory (every required tensor present, with
// its expected shape: expert counts, stacked expert shapes...). Throws ConfigError for an
// unsupported architecture and FormatError naming the file, key or tensor and the problem.
GgufArchSettings gguf_arch_settings(const GgufFile& file);

// The ModelConfig of a file read by gguf_arch_settings (every architecture but dense llama, which
// gguf_model_config reads itself; it validates both). Throws ConfigError naming the file for what
// the forward does not support yet (yarn rotary scaling, per-expert tensors).
ModelConfig gguf_arch_model_config(const GgufFile& file, const GgufArchSettings& settings);

// One tensor the architecture stores: its GGUF name, canonical name and row-major shape.
struct GgufTensorPlan {
    std::string gguf;       // "blk.3.attn_q.weight"
    std::string canonical;  // "blocks.3.attn.W_Q"
    std::vector<int64_t> shape;
    bool required = true;
    int layer = -1;     // -1: a model-level tensor
    std::string local;  // the canonical name within its layer ("attn.W_Q"); == canonical at model level
};

// Every tensor the settings call for, in file order (globals, then layer by layer).
std::vector<GgufTensorPlan> gguf_tensor_plan(const GgufArchSettings& s);

// The canonical name of a GGUF tensor name, or nullopt when the architecture has no such
// tensor ("blk.2.ffn_gate_exps.weight" -> "blocks.2.mlp.experts.W_gate").
std::optional<std::string> gguf_canonical_name(const GgufArchSettings& s, std::string_view gguf_name);

}  // namespace headscope
