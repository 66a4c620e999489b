// The mixture-of-experts MLP of one layer inside the forward: the moe_mlp component on the
// layer's packed weights, with the model's hook points (blocks.L.mlp.hook_router_logits,
// hook_expert_indices, hook_expert_weights, hook_expert_out) attached; hook_expert_out is
// computed only when hooked. Internal to the model.
#pragma once

#include <ATen/core/Tensor.h>

#include "headscope/model_config.hpp"

namespace headscope {

class HookRegistry;
struct LayerCompute;

// x [B, T, d_model] (the MLP input) -> the weighted expert sum (+ shared expert) [B, T, d_model], in x's dtype.
at::Tensor sparse_mlp(const HookRegistry& hooks, const ModelConfig& config, int layer, const LayerCompute& weights,
                      const at::Tensor& x);

}  // namespace headscope
