// The one canonical weight layout every loader converts into, whatever the file format
// (TransformerLens' layout). Undefined tensors mean "absent" (e.g. biases of Llama, ln biases
// of RMSNorm, W_pos of rotary models). Loaders fill it with views of the memory-mapped file in
// the stored dtype (f32/f16/bf16) wherever the layout allows; weights no view can express (GGUF
// quantised blocks) are DeferredWeights, produced one layer at a time when that layer runs.
#pragma once

#include <ATen/core/Tensor.h>

#include <functional>
#include <string>
#include <vector>

#include "headscope/model_config.hpp"

namespace headscope {

struct LayerWeights {
    at::Tensor ln1_w, ln1_b;  // [d_model]
    at::Tensor W_Q, b_Q;      // [H, d_model, d_head], [H, d_head]
    at::Tensor W_K, b_K;      // [K, d_model, d_head], [K, d_head]
    at::Tensor W_V, b_V;      // [K, d_model, d_head], [K, d_head]
    at::Tensor W_O, b_O;      // [H, d_head, d_model], [d_model]
    at::Tensor ln2_w, ln2_b;  // [d_model]
    at::Tensor W_gate, b_gate;  // [d_model, d_mlp]  gated MLPs (SwiGLU) only
    at::Tensor W_in, b_in;      // [d_model, d_mlp]  (the "up" projection of gated MLPs)
    at::Tensor W_out, b_out;    // [d_mlp, d_model]
    // Families with more norms (absent elsewhere). Norm weights hold the factor applied
    // (Gemma's 1 + w already added).
    at::Tensor ln1_post_w;  // [d_model]  norm of the attention output (post / pre+post placement)
    at::Tensor ln2_post_w;  // [d_model]  norm of the MLP output
    at::Tensor q_norm_w;    // [d_head] per-head q/k norm, or [H * d_head] full-width
    at::Tensor k_norm_w;    // [d_head] per-head q/k norm, or [K * d_head] full-width
    // Mixture-of-experts MLP layers (instead of W_gate / W_in / W_out): E experts of width f
    // stacked, SwiGLU each; Qwen2-MoE adds a shared expert of width s behind a sigmoid gate.
    at::Tensor W_router;         // [d_model, E]     router (gate) logits = x W_router
    at::Tensor W_expert_gate;    // [E, d_model, f]
    at::Tensor W_expert_in;      // [E, d_model, f]  (the "up" projection)
    at::Tensor W_expert_out;     // [E, f, d_model]
    at::Tensor W_shared_gate;    // [d_model, s]
    at::Tensor W_shared_in;      // [d_model, s]
    at::Tensor W_shared_out;     // [s, d_model]
    at::Tensor w_shared_router;  // [d_model]  shared expert weight = sigmoid(x · w_shared_router)
};

// Every tensor of a layer, named once ("attn.W_Q" -> blocks.L.attn.W_Q). Validation,
// conversion, training and counting all walk this table, so a new tensor is added here only.
struct LayerTensor {
    const char* name;
    at::Tensor LayerWeights::*member;
};
const std::vector<LayerTensor>& layer_tensors();

// A layer weight kept as its file stores it because no tensor view can express it (GGUF q8_0 /
// q4_0 blocks; experts stored one tensor each, stacked). `produce` returns it in the canonical
// layout and shape (float32 when dequantised, else the stored dtype); it runs only when its layer
// is materialized, so the model never holds more than one layer dequantized or stacked.
struct DeferredWeight {
    int layer = 0;
    at::Tensor LayerWeights::*field = nullptr;
    std::vector<int64_t> shape;  // canonical shape
    int64_t stored_bytes = 0;    // bytes in the file
    std::function<at::Tensor()> produce;
    bool quantized = true;  // false: only gathered (stacked experts), so residency may stay resident
};

struct ModelWeights {
    at::Tensor W_E;    // [d_vocab, d_model]
    at::Tensor W_pos;  // [n_ctx, d_model]  learned positions only
    std::vector<LayerWeights> layers;
    at::Tensor ln_final_w, ln_final_b;  // [d_model]
    at::Tensor W_U;  // [d_model, d_vocab]  (a view of W_E transposed when tied)
    at::Tensor b_U;  // [d_vocab]
    std::vector<DeferredWeight> deferred;  // layer fields left undefined above
};

// Calls f(name, tensor) for every tensor slot of the model, defined or not, in a fixed order;
// names are canonical ("W_E", "blocks.3.attn.W_Q", "ln_final.w").
void for_each_weight(ModelWeights& weights, const std::function<void(const std::string&, at::Tensor&)>& f);
void for_each_weight(const ModelWeights& weights,
                     const std::function<void(const std::string&, const at::Tensor&)>& f);

// Layer l with its deferred weights produced (float32); the other tensors are shared, as stored.
LayerWeights resolve_layer(const ModelWeights& weights, int layer);

// Bytes the weights take as stored (mapped views counted at their stored size, deferred ones at
// their size in the file; tied W_U once).
int64_t stored_weight_bytes(const ModelWeights& weights);
// Whether any weight is stored quantised (deferred and dequantised per layer).
bool holds_quantized(const ModelWeights& weights);
// The largest layer's parameter count.
int64_t largest_layer_parameters(const ModelWeights& weights);

// Throws ConfigError naming the first weight that is missing, present where it must not be,
// or mis-shaped (with the expected shape).
void validate_weights(const ModelConfig& config, const ModelWeights& weights);

// Parameters actually stored (tied W_U counted once).
int64_t parameter_count(const ModelWeights& weights);

// Moves/casts every tensor into contiguous memory of dtype on device (deferred weights produced; W_U kept
// tied to W_E when it was).
ModelWeights convert_weights(const ModelWeights& weights, const ModelConfig& config, at::ScalarType dtype,
                             c10::Device device);

}  // namespace headscope
