// Rotary position embeddings in both layouts (see RotaryStyle). Internal to the forward pass.
#pragma once

#include <ATen/core/Tensor.h>

#include "headscope/model_config.hpp"

namespace headscope {

struct RotaryTables {
    at::Tensor cos;  // [positions, rotary_dim / 2]; undefined until first used
    at::Tensor sin;  // [positions, rotary_dim / 2]
};

// Frequencies theta^(-2i/rotary_dim), angles computed in float64 then cast to dtype, for
// positions 0..positions-1.
RotaryTables make_rotary_tables(const ModelConfig& config, int64_t positions, at::ScalarType dtype, c10::Device device);
// Grows `tables` to cover `positions` (at least doubling, never past n_ctx): built lazily for the
// positions actually used, so a model claiming a huge context allocates nothing large.
void ensure_rotary_tables(RotaryTables& tables, int64_t positions, const ModelConfig& config, at::ScalarType dtype,
                          c10::Device device);

// x: [B, T, heads, d_head]; rotates the first rotary_dim dims of each head at positions 0..T-1.
at::Tensor apply_rotary(const at::Tensor& x, const RotaryTables& tables, const ModelConfig& config);

}  // namespace headscope
