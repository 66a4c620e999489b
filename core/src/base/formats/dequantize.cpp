#include "formats/dequantize.hpp"

#include <cstring>

namespace headscope::formats {

namespace {
constexpr uint64_t kQuantBlock = 32;
constexpr uint64_t kSuperBlock = 256;  // ggml's QK_K
constexpr uint64_t kQ4KBytes = 2 + 2 + 12 + kSuperBlock / 2;
constexpr uint64_t kQ6KBytes = kSuperBlock / 2 + kSuperBlock / 4 + kSuperBlock / 16 + 2;

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
// The 6-bit scale and min of sub-block s (0..7) of a q4_K super-block.
void q4_K_scale_min(const uint8_t* scales, int s, int* scale, int* min) {
    if (s < 4) {
        *scale = scales[s] & 63;
        *min = scales[s + 4] & 63;
    } else {
        *scale = (scales[s + 4] & 0x0F) | ((scales[s - 4] >> 6) << 4);
        *min = (scales[s + 4] >> 4) | ((scales[s] >> 6) << 4);
    }
}

void convert_q4_K(const uint8_t* src, uint64_t numel, float* dst) {
    for (uint64_t b = 0; b < numel / kSuperBlock; ++b) {
        const uint8_t* block = src + b * kQ4KBytes;
        const float d = half_to_float(load_u16(block));
        const float dmin = half_to_float(load_u16(block + 2));
        const uint8_t* scales = block + 4;
        const uint8_t* qs = block + 16;
        float* out = dst + b * kSuperBlock;
        for (int group = 0; group < 4; ++group) {
            int sc_low, m_low, sc_high, m_high;
            q4_K_scale_min(scales, 2 * group, &sc_low, &m_low);
            q4_K_scale_min(scales, 2 * group + 1, &sc_high, &m_high);
            const float d_low = d * static_cast<float>(sc_low), min_low = dmin * static_cast<float>(m_low);
            const float d_high = d * static_cast<float>(sc_high), min_high = dmin * static_cast<float>(m_high);
            const uint8_t* q = qs + 32 * group;
            float* y = out + 64 * group;
            for (int l = 0; l < 32; ++l) {
                y[l] = d_low * static_cast<float>(q[l] & 0x0F) - min_low;
                y[l + 32] = d_high * static_cast<float>(q[l] >> 4) - min_high;
            }
        }
    }
}

void convert_q6_K(const uint8_t* src, uint64_t numel, float* dst) {
    for (uint64_t b = 0; b < numel / kSuperBlock; ++b) {
        const uint8_t* block = src + b * kQ6KBytes;
        const uint8_t* ql_all = block;
        const uint8_t* qh_all = block + kSuperBlock / 2;
        const int8_t* sc_all = reinterpret_cast<const int8_t*>(block + kSuperBlock / 2 + kSuperBlock / 4);
        const float d = half_to_float(load_u16(block + kQ6KBytes - 2));
        for (int half = 0; half < 2; ++half) {
            const uint8_t* ql = ql_all + 64 * half;
            const uint8_t* qh = qh_all + 32 * half;
            const int8_t* sc = sc_all + 8 * half;
            float* y = dst + b * kSuperBlock + 128 * half;
            for (int l = 0; l < 32; ++l) {
                const int is = l / 16;
                const int q1 = ((ql[l] & 0x0F) | (((qh[l] >> 0) & 3) << 4)) - 32;
                const int q2 = ((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                y[l] = d * static_cast<float>(sc[is] * q1);
                y[l + 32] = d * static_cast<float>(sc[is + 2] * q2);
                y[l + 64] = d * static_cast<float>(sc[is + 4] * q3);
                y[l + 96] = d * static_cast<float>(sc[is + 6] * q4);
            }
        }
    }
}
}  // namespace

uint64_t block_elements(StorageType t) {
    switch (t) {
        case StorageType::q8_0:
        case StorageType::q4_0: return kQuantBlock;
        case StorageType::q4_K:
        case StorageType::q6_K: return kSuperBlock;
        default: return 1;
    }
}

uint64_t block_bytes(StorageType t) {
    switch (t) {
        case StorageType::f32: return 4;
        case StorageType::f16: return 2;
        case StorageType::bf16: return 2;
        case StorageType::q8_0: return 2 + kQuantBlock;
        case StorageType::q4_0: return 2 + kQuantBlock / 2;
        case StorageType::q4_K: return kQ4KBytes;
        case StorageType::q6_K: return kQ6KBytes;
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
        case StorageType::q4_K: convert_q4_K(src, numel, dst); return;
        case StorageType::q6_K: convert_q6_K(src, numel, dst); return;
    }
}

}  // namespace headscope::formats
