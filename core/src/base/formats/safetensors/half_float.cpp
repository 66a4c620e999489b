#include "formats/safetensors/half_float.hpp"

namespace headscope::st {

float f16_to_f32(uint16_t h) {
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    const uint32_t exponent = (h >> 10) & 0x1fu;
    uint32_t mantissa = h & 0x3ffu;

    if (exponent == 0x1fu)  // inf or NaN: keep the payload
        return float_from_bits(sign | 0x7f800000u | (mantissa << 13));
    if (exponent != 0)  // normal: rebias 15 -> 127
        return float_from_bits(sign | ((exponent + 112u) << 23) | (mantissa << 13));
    if (mantissa == 0) return float_from_bits(sign);  // +-0

    // Subnormal f16: value = mantissa * 2^-24. Normalise so the leading 1 sits at bit 10;
    // each shift lowers the float32 exponent by one.
    uint32_t e = 113;  // float32 biased exponent of 2^-14 (the f16 subnormal scale, + 1 shift)
    while ((mantissa & 0x400u) == 0) {
        mantissa <<= 1;
        --e;
    }
    mantissa &= 0x3ffu;
    return float_from_bits(sign | (e << 23) | (mantissa << 13));
}

}  // namespace headscope::st
