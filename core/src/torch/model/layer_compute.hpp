// One layer's weights as the forward uses them — packed GEMM matrices in the compute (or GEMM)
// dtype on the compute device — built from the canonical LayerWeights, whatever their stored
// dtype and device: the resident copy is built once, a streamed layer each time it runs.
// Internal to the model.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <string>

#include "headscope/model_config.hpp"
#include "headscope/model_weights.hpp"

namespace headscope {

struct LayerCompute {
    at::Tensor ln1_w, ln1_b;     // [d_model], compute dtype
    // GEMM matrices [in, out] (dense, in the layout they are stored in), GEMM dtype. q, k, v
    // and gate, up stay separate GEMMs: a stored [out, in] matrix is then used in place, where
    // packing them side by side would copy every streamed layer.
    at::Tensor W_q, b_q;         // [d_model, H * d_head]
    at::Tensor W_k, b_k;         // [d_model, K * d_head]
    at::Tensor W_v, b_v;         // [d_model, K * d_head]
    at::Tensor W_O;              // [H, d_head, d_model] as held (stored dtype when streamed): hook_result only
    at::Tensor W_o, b_O;         // [H * d_head, d_model], [d_model], GEMM dtype
    at::Tensor ln2_w, ln2_b;     // [d_model], compute dtype
    at::Tensor W_gate, b_gate;   // [d_model, d_mlp] gated MLPs only
    at::Tensor W_up, b_up;       // [d_model, d_mlp] (the "in" projection)
    at::Tensor W_out, b_out;     // [d_mlp, d_model], [d_model], GEMM dtype
    // Families with more norms (undefined elsewhere), compute dtype.
    at::Tensor q_norm_w, k_norm_w;  // [d_head] per head, or [H * d_head] / [K * d_head] full width
    at::Tensor ln1_post_w;          // [d_model] attention output norm (post / pre+post placement)
    at::Tensor ln2_post_w;          // [d_model] MLP output norm
    // Mixture-of-experts layers (W_up / W_out undefined there), GEMM dtype; see LayerWeights.
    at::Tensor W_router;                                   // [d_model, E]
    at::Tensor W_expert_gate, W_expert_in, W_expert_out;   // [E, d_model, f] x2, [E, f, d_model]
    at::Tensor W_shared_gate, W_shared_in, W_shared_out;   // [d_model, s] x2, [s, d_model]
    at::Tensor w_shared_router;                            // [d_model]
};

struct ComputeTypes {
    c10::Device device = c10::Device(c10::DeviceType::CPU);
    at::ScalarType dtype = at::kFloat;       // activations, norms
    at::ScalarType gemm_dtype = at::kFloat;  // GEMM weights (float32 when half GEMMs are slow here)
};

// Converts (moves in the stored dtype first, then casts on the device) and packs one layer.
// Norm weights and biases are contiguous; a GEMM matrix keeps its layout when dense (contiguous
// [in, out], or the transpose of a contiguous [out, in] as HF and GGUF store it) and is made
// contiguous otherwise, so a stored matrix already in the GEMM dtype is used without a copy, and
// a resident and a streamed layer (same layouts, see convert_weights) give the same numbers.
LayerCompute pack_layer(const LayerWeights& layer, const ModelConfig& config, const ComputeTypes& types);

// Canonical weights of one layer converted to `types.dtype` on the device (layout kept).
LayerWeights convert_layer(const LayerWeights& layer, const ComputeTypes& types);

// x [N, in] times W [in, out] (+ b): in W's dtype, the result in x's dtype.
at::Tensor gemm(const at::Tensor& x, const at::Tensor& W, const at::Tensor& b);

// Whether a half-precision GEMM is the fast path for `dtype` on `device` (CUDA: yes; CPU
// bfloat16: with oneDNN and avx512_bf16/AMX; CPU float16: no), and a line saying which.
bool fast_half_gemm(at::ScalarType dtype, c10::Device device, std::string* why);

}  // namespace headscope
