// The one canonical weight layout every loader converts into, whatever the file format
// (TransformerLens' layout). Undefined tensors mean "absent" (e.g. biases of Llama, ln biases
// of RMSNorm, W_pos of rotary models).
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
};

// Every tensor of a layer, named once ("attn.W_Q" -> blocks.L.attn.W_Q). Validation,
// conversion, training and counting all walk this table, so a new tensor is added here only.
struct LayerTensor {
    const char* name;
    at::Tensor LayerWeights::*member;
};
const std::vector<LayerTensor>& layer_tensors();

struct ModelWeights {
    at::Tensor W_E;    // [d_vocab, d_model]
    at::Tensor W_pos;  // [n_ctx, d_model]  learned positions only
    std::vector<LayerWeights> layers;
    at::Tensor ln_final_w, ln_final_b;  // [d_model]
    at::Tensor W_U;  // [d_model, d_vocab]  (a view of W_E transposed when tied)
    at::Tensor b_U;  // [d_vocab]
};

// Calls f(name, tensor) for every tensor slot of the model, defined or not, in a fixed order;
// names are canonical ("W_E", "blocks.3.attn.W_Q", "ln_final.w").
void for_each_weight(ModelWeights& weights, const std::function<void(const std::string&, at::Tensor&)>& f);
void for_each_weight(const ModelWeights& weights,
                     const std::function<void(const std::string&, const at::Tensor&)>& f);

// Throws ConfigError naming the first weight that is missing, present where it must not be,
// or mis-shaped (with the expected shape).
void validate_weights(const ModelConfig& config, const ModelWeights& weights);

// Parameters actually stored (tied W_U counted once).
int64_t parameter_count(const ModelWeights& weights);

// Moves/casts every tensor (keeping W_U tied to W_E when it was).
ModelWeights convert_weights(const ModelWeights& weights, const ModelConfig& config, at::ScalarType dtype,
                             c10::Device device);

}  // namespace headscope
