// Exact conversion of IEEE-754 binary16 (f16) and bfloat16 bit patterns to float32.
// Every f16/bf16 value is representable in float32, so these are lossless; NaN payloads are
// kept (shifted into the float32 mantissa), as numpy and PyTorch do.
#pragma once

#include <cstdint>
#include <cstring>

namespace headscope::st {

inline float float_from_bits(uint32_t bits) {
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

inline uint32_t bits_from_float(float f) {
    uint32_t bits;
    std::memcpy(&bits, &f, sizeof bits);
    return bits;
}

// bfloat16 is the upper half of a float32.
inline float bf16_to_f32(uint16_t h) { return float_from_bits(static_cast<uint32_t>(h) << 16); }

float f16_to_f32(uint16_t h);

}  // namespace headscope::st
