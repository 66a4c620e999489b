// HookedTransformer's derived, matmul-ready weights (shared by its two source files). Internal.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "headscope/hooked_transformer.hpp"
#include "model/rotary.hpp"

namespace headscope {

// Weights re-laid out for fast matmuls (derived from weights_, rebuilt by repack()).
struct HookedTransformer::Packed {
    struct Layer {
        torch::Tensor W_qkv, b_qkv;  // [d_model, (H + 2K) * d_head]
        torch::Tensor W_o;           // [H * d_head, d_model]
        torch::Tensor W_up, b_up;    // [d_model, d_mlp] or gated [d_model, 2 * d_mlp] (gate | in)
    };
    std::vector<Layer> layers;
    RotaryTables rotary;        // global layers, at n_ctx positions
    RotaryTables rotary_local;  // sliding layers with their own theta (Gemma-3)
    RotaryTables rotary_prompt; // length-dependent scalings: the current prompt's tables
    int64_t rotary_prompt_T = -1;
    double attn_scale = 1.0;
};

}  // namespace headscope
