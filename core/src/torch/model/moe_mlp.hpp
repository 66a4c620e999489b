// The sparse mixture-of-experts MLP of Mixtral, Qwen2-MoE, Qwen3-MoE and OLMoE, as one block
// component. Internal to the forward pass.
//
//   router_logits = x · W_router                                   [N, E]
//   p             = softmax(router_logits) (float32)               [N, E]
//   (w, idx)      = top-k of p; w /= sum(w) when normalize_topk    [N, k]
//   out           = Σ_j w_j · expert_{idx_j}(x)  (+ shared expert)
//   expert_e(x)   = (silu(x · W_gate[e]) * (x · W_in[e])) · W_out[e]            (SwiGLU)
//   shared(x)     = sigmoid(x · w_shared_router) · SwiGLU_shared(x)       (Qwen2-MoE only)
//
// Mixtral's "softmax over the k selected logits" is exactly softmax-then-top-k with
// normalize_topk (softmax is monotone and renormalising cancels the other experts' mass), so
// one option covers every family: Mixtral always normalises; Qwen2-MoE, Qwen3-MoE and OLMoE
// follow their config's norm_topk_prob (defaults false, true, false).
// Each expert runs only on the tokens routed to it.
#pragma once

#include <ATen/core/Tensor.h>

#include <functional>

namespace headscope {

struct MoeMlpWeights {
    at::Tensor W_router;  // [d_model, E]
    at::Tensor W_gate;    // [E, d_model, d_expert]
    at::Tensor W_in;      // [E, d_model, d_expert]  (the "up" projection)
    at::Tensor W_out;     // [E, d_expert, d_model]
    // Shared expert (Qwen2-MoE); undefined when the family has none.
    at::Tensor W_shared_gate;    // [d_model, d_shared]
    at::Tensor W_shared_in;      // [d_model, d_shared]
    at::Tensor W_shared_out;     // [d_shared, d_model]
    at::Tensor W_shared_router;  // [d_model, 1]  the shared expert's sigmoid gate
};

struct MoeMlpOptions {
    int top_k = 2;
    bool normalize_topk = true;
};

// Where the forward's hook points attach. Each function (when set) sees the tensor and returns
// the one to use from then on, so a hook that edits router logits changes the routing.
struct MoeMlpHooks {
    std::function<at::Tensor(const at::Tensor&)> router_logits;   // [B, T, E]
    // [B, T, k] int64. A replacement reroutes: each token goes to the experts it names, weighted
    // by the router's probabilities of those experts (renormalised when normalize_topk).
    std::function<at::Tensor(const at::Tensor&)> expert_indices;
    std::function<at::Tensor(const at::Tensor&)> expert_weights;  // [B, T, k] (after normalisation)
    // [B, T, k, d_model]: the output of each chosen expert (slot j is expert_indices[..., j]),
    // before weighting. Only computed when this is set or want_expert_out is true.
    std::function<at::Tensor(const at::Tensor&)> expert_out;
};

struct MoeMlpOutput {
    at::Tensor out;             // [B, T, d_model]
    at::Tensor router_logits;   // [B, T, E]
    at::Tensor expert_weights;  // [B, T, k], x's dtype
    at::Tensor expert_indices;  // [B, T, k], int64, same order as expert_weights (descending p)
    at::Tensor expert_out;      // [B, T, k, d_model]; undefined unless asked for
    at::Tensor shared_out;      // [B, T, d_model] gated shared-expert output; undefined without one
};

// x: [B, T, d_model]. Throws std::invalid_argument on inconsistent shapes or top_k outside 1..E.
MoeMlpOutput moe_mlp_forward(const at::Tensor& x, const MoeMlpWeights& w, const MoeMlpOptions& options,
                             const MoeMlpHooks& hooks = {}, bool want_expert_out = false);

}  // namespace headscope
