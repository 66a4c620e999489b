// Storage layouts of tensor elements and their conversion to float32:
//   f32, f16 (IEEE half), bf16 (upper half of a float32) — one element each;
//   q8_0 — blocks of 32: fp16 scale d, 32 int8 q;           x = d * q
//   q4_0 — blocks of 32: fp16 scale d, 16 bytes of nibbles;  x = d * (nibble - 8), where byte j's
//          low nibble is element j and its high nibble element j + 16 of the block.
// All multi-byte values are little-endian.
#pragma once

#include <cstdint>

#include "headscope/tensor_source.hpp"

namespace headscope::formats {

// Elements per block (1 for unquantised types) and bytes per block.
uint64_t block_elements(StorageType t);
uint64_t block_bytes(StorageType t);

float half_to_float(uint16_t bits);
float bfloat16_to_float(uint16_t bits);

// Converts numel elements (a multiple of block_elements(t)) stored at src, which holds
// numel / block_elements(t) * block_bytes(t) bytes (the caller guarantees it), into dst.
void dequantize_to_f32(StorageType t, const uint8_t* src, uint64_t numel, float* dst);

}  // namespace headscope::formats
