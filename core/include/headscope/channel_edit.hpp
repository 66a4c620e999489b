// Channel edit (Talking Heads): scale what a head writes along its top-r OV singular directions.
// With W_V·W_O = U·diag(S)·Vh (the head's OV circuit, GQA-aware, ln1's weight folded into W_V
// by default as in qk_ov_svd) and V_r the first r rows of Vh (output directions in d_model),
// the head's output o = z·W_O becomes o' = o + (scale − 1)·o·V_rᵀ·V_r: the component along those
// directions is scaled, the rest is kept. Applied on blocks.L.attn.hook_z through the d_head×d_head
// map M = I + (scale − 1)·W_O·V_rᵀ·V_r·W_O⁺ (z' = z·M, so z'·W_O = o'), one slice per query head.
//
//   model.run_with_hooks(tokens, {channel_edit_hook(model, 1, {3}, 2.0, 2)});  // L1H3=channel:2.0@r2
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "headscope/hooks.hpp"
#include "headscope/interventions.hpp"

namespace headscope {

class HookedTransformer;

struct ChannelEditOptions {
    double scale = 1.0;             // factor on the top-r OV output directions (1 changes nothing)
    int64_t rank = 1;               // r, clamped to the head's nonzero singular values
    bool fold_norm_weights = true;  // the OV circuit of qk_ov_svd's default (ln1 folded into W_V)
    Positions positions;            // empty = every position
};

// M [d_head, d_head] of query head `head` of `layer` (float64, on the CPU). UsageError for a
// layer or head out of range, rank < 1 or a non-finite scale.
at::Tensor channel_edit_map(const HookedTransformer& model, int layer, int head, const ChannelEditOptions& options);

// One hook on blocks.{layer}.attn.hook_z editing each of `heads` with its own map (computed now,
// from the model's current weights).
NamedHook channel_edit_hook(const HookedTransformer& model, int layer, const std::vector<int>& heads,
                            const ChannelEditOptions& options);

}  // namespace headscope
