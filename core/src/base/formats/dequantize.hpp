// Storage layouts of tensor elements and their conversion to float32:
//   f32, f16 (IEEE half), bf16 (upper half of a float32) — one element each;
//   q8_0 — blocks of 32: fp16 scale d, 32 int8 q;           x = d * q
//   q4_0 — blocks of 32: fp16 scale d, 16 bytes of nibbles;  x = d * (nibble - 8), where byte j's
//          low nibble is element j and its high nibble element j + 16 of the block;
//   q4_K — super-blocks of 256 (144 bytes): fp16 d, fp16 dmin, 12 bytes of 6-bit scales and
//          mins for 8 sub-blocks of 32, 128 bytes of nibbles;  x = d*sc[s]*q - dmin*m[s].
//          Byte j of 32-byte group g holds element 64g + j (low nibble, sub-block 2g) and
//          64g + 32 + j (high nibble, sub-block 2g + 1). Sub-block s < 4: sc = scales[s] & 63,
//          m = scales[s + 4] & 63; s >= 4: sc = (scales[s + 4] & 15) | (scales[s - 4] >> 6) << 4,
//          m = (scales[s + 4] >> 4) | (scales[s] >> 6) << 4;
//   q6_K — super-blocks of 256 (210 bytes): 128 bytes ql (low 4 bits), 64 bytes qh (high
//          2 bits), 16 int8 scales (one per 16 elements), fp16 d;  x = d * scale * (q - 32).
//          Each half h of 128 elements uses ql[64h..], qh[32h..]; for l < 32 its elements
//          l, l+32, l+64, l+96 take ql[l] low, ql[l+32] low, ql[l] high, ql[l+32] high nibbles
//          and bit pairs 0-1, 2-3, 4-5, 6-7 of qh[l].
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
