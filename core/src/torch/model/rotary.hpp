// Rotary position embeddings in both layouts (see RotaryStyle), with Hugging Face's frequency
// scalings (linear, dynamic NTK, llama3, yarn, longrope) and Gemma-3's local theta on sliding
// layers. Internal to the forward pass.
#pragma once

#include <ATen/core/Tensor.h>

#include "headscope/model_config.hpp"

namespace headscope {

struct RotaryTables {
    at::Tensor cos;  // [positions, rotary_dim / 2], times the scaling's attention factor; undefined until used
    at::Tensor sin;  // [positions, rotary_dim / 2], likewise
};

// The inverse frequencies [rotary_dim / 2] (float64) for a prompt of seq_len positions; local
// selects the unscaled rope_local_theta of sliding layers. Dynamic NTK and longrope depend on
// seq_len (as transformers' dynamic_rope_update for a fresh model); the others do not.
at::Tensor rotary_inv_freq(const ModelConfig& config, bool local, int64_t seq_len);
// cos/sin for positions 0..positions-1 (angles in float64, then cast to dtype), with the
// frequencies of a prompt of `positions` tokens.
RotaryTables make_rotary_tables(const ModelConfig& config, bool local, int64_t positions, at::ScalarType dtype,
                                c10::Device device);
// Grows `tables` to cover `positions` (at least doubling, never past n_ctx): built lazily for the
// positions actually used, so a model claiming a huge context allocates nothing large. Only for
// frequencies that do not depend on the prompt length (see rotary_depends_on_length).
void ensure_rotary_tables(RotaryTables& tables, int64_t positions, const ModelConfig& config, bool local,
                          at::ScalarType dtype, c10::Device device);
// True when the tables of a prompt depend on its length (dynamic, longrope).
bool rotary_depends_on_length(const ModelConfig& config);
// True when layer l uses the local (sliding-layer) frequencies.
bool uses_local_rotary(const ModelConfig& config, int layer);

// x: [B, T, heads, d_head]; rotates the first rotary_dim dims of each head at positions 0..T-1.
at::Tensor apply_rotary(const at::Tensor& x, const RotaryTables& tables, const ModelConfig& config);

}  // namespace headscope
