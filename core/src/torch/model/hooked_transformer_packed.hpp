// HookedTransformer's derived, matmul-ready state (shared by its source files). Internal.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "headscope/hooked_transformer.hpp"
#include "model/layer_compute.hpp"
#include "model/rotary.hpp"

namespace headscope {

// Weights re-laid out for fast matmuls: every layer when resident (rebuilt by repack()), none
// when streamed (materialize_layer packs each layer as it runs); rotary tables built lazily for
// the positions actually used.
struct HookedTransformer::Packed {
    std::vector<LayerCompute> layers;
    RotaryTables rotary;         // global layers, grown to the positions used
    RotaryTables rotary_local;   // sliding layers with their own theta (Gemma-3), likewise
    RotaryTables rotary_prompt;  // length-dependent scalings (dynamic, longrope): the current prompt's
    int64_t rotary_prompt_T = -1;
    double attn_scale = 1.0;
};

}  // namespace headscope
