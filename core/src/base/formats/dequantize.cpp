#include "formats/dequantize.hpp"

#include <cstring>

namespace headscope::formats {

namespace {
constexpr uint64_t kQuantBlock = 32;

uint16_t load_u16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }

float bits_to_float(uint32_t bits) {
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

void convert_f32(const uint8_t* src, uint64_t numel, float* dst) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    std::memcpy(dst, src, static_cast<size_t>(numel) * sizeof(float));
#else
    for (uint64_t i = 0; i < numel; ++i) {
        const uint8_t* p = src + 4 * i;
        uint32_t bits = static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
                        (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
        dst[i] = bits_to_float(bits);
    }
#endif
}

void convert_q8_0(const uint8_t* src, uint64_t numel, float* dst) {
    const uint64_t stride = block_bytes(StorageType::q8_0);
    for (uint64_t b = 0; b < numel / kQuantBlock; ++b) {
        const uint8_t* block = src + b * stride;
        const float d = half_to_float(load_u16(block));
        const uint8_t* qs = block + 2;
        float* out = dst + b * kQuantBlock;
        for (uint64_t j = 0; j < kQuantBlock; ++j)
            out[j] = d * static_cast<float>(static_cast<int8_t>(qs[j]));
    }
}

void convert_q4_0(const uint8_t* src, uint64_t numel, float* dst) {
    const uint64_t stride = block_bytes(StorageType::q4_0);
    for (uint64_t b = 0; b < numel / kQuantBlock; ++b) {
        const uint8_t* block = src + b * stride;
        const float d = half_to_float(load_u16(block));
        const uint8_t* qs = block + 2;
        float* out = dst + b * kQuantBlock;
        for (uint64_t j = 0; j < kQuantBlock / 2; ++j) {
            out[j] = d * static_cast<float>(static_cast<int>(qs[j] & 0x0F) - 8);
            out[j + kQuantBlock / 2] = d * static_cast<float>(static_cast<int>(qs[j] >> 4) - 8);
        }
    }
}
}  // namespace

uint64_t block_elements(StorageType t) {
    return (t == StorageType::q8_0 || t == StorageType::q4_0) ? kQuantBlock : 1;
}

uint64_t block_bytes(StorageType t) {
    switch (t) {
        case StorageType::f32: return 4;
        case StorageType::f16: return 2;
        case StorageType::bf16: return 2;
        case StorageType::q8_0: return 2 + kQuantBlock;
        case StorageType::q4_0: return 2 + kQuantBlock / 2;
    }
    return 0;
}

float half_to_float(uint16_t h) {
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    const uint32_t exponent = (h >> 10) & 0x1Fu;
    const uint32_t mantissa = h & 0x3FFu;
    if (exponent == 0) {
        // Zero or subnormal: mantissa * 2^-24, exact in float32.
        float magnitude = static_cast<float>(mantissa) * 5.9604644775390625e-08f;
        return sign ? -magnitude : magnitude;
    }
    if (exponent == 0x1F) return bits_to_float(sign | 0x7F800000u | (mantissa << 13));  // inf/NaN
    return bits_to_float(sign | ((exponent + (127 - 15)) << 23) | (mantissa << 13));
}

float bfloat16_to_float(uint16_t bits) { return bits_to_float(static_cast<uint32_t>(bits) << 16); }

void dequantize_to_f32(StorageType t, const uint8_t* src, uint64_t numel, float* dst) {
    switch (t) {
        case StorageType::f32: convert_f32(src, numel, dst); return;
        case StorageType::f16:
            for (uint64_t i = 0; i < numel; ++i) dst[i] = half_to_float(load_u16(src + 2 * i));
            return;
        case StorageType::bf16:
            for (uint64_t i = 0; i < numel; ++i) dst[i] = bfloat16_to_float(load_u16(src + 2 * i));
            return;
        case StorageType::q8_0: convert_q8_0(src, numel, dst); return;
        case StorageType::q4_0: convert_q4_0(src, numel, dst); return;
    }
}

}  // namespace headscope::formats
