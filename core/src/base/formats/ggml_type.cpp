#include "formats/ggml_type.hpp"

namespace headscope::formats {

namespace {
// ggml's enum ggml_type. Gaps are ids ggml retired (4, 5: q4_2/q4_3; 31..33, 36..38: repacked
// q4_0/iq4_nl layouts that never appear in files written by current tools).
constexpr GgmlType kTypes[] = {
    {0, "f32", StorageType::f32},
    {1, "f16", StorageType::f16},
    {2, "q4_0", StorageType::q4_0},
    {3, "q4_1", std::nullopt},
    {4, "q4_2 (retired)", std::nullopt},
    {5, "q4_3 (retired)", std::nullopt},
    {6, "q5_0", std::nullopt},
    {7, "q5_1", std::nullopt},
    {8, "q8_0", StorageType::q8_0},
    {9, "q8_1", std::nullopt},
    {10, "q2_K", std::nullopt},
    {11, "q3_K", std::nullopt},
    {12, "q4_K", StorageType::q4_K},
    {13, "q5_K", std::nullopt},
    {14, "q6_K", StorageType::q6_K},
    {15, "q8_K", std::nullopt},
    {16, "iq2_xxs", std::nullopt},
    {17, "iq2_xs", std::nullopt},
    {18, "iq3_xxs", std::nullopt},
    {19, "iq1_s", std::nullopt},
    {20, "iq4_nl", std::nullopt},
    {21, "iq3_s", std::nullopt},
    {22, "iq2_s", std::nullopt},
    {23, "iq4_xs", std::nullopt},
    {24, "i8", std::nullopt},
    {25, "i16", std::nullopt},
    {26, "i32", std::nullopt},
    {27, "i64", std::nullopt},
    {28, "f64", std::nullopt},
    {29, "iq1_m", std::nullopt},
    {30, "bf16", StorageType::bf16},
    {31, "q4_0_4_4 (retired)", std::nullopt},
    {32, "q4_0_4_8 (retired)", std::nullopt},
    {33, "q4_0_8_8 (retired)", std::nullopt},
    {34, "tq1_0", std::nullopt},
    {35, "tq2_0", std::nullopt},
    {36, "iq4_nl_4_4 (retired)", std::nullopt},
    {37, "iq4_nl_4_8 (retired)", std::nullopt},
    {38, "iq4_nl_8_8 (retired)", std::nullopt},
    {39, "mxfp4", std::nullopt},
};
}  // namespace

const GgmlType* find_ggml_type(uint32_t id) {
    for (const auto& t : kTypes)
        if (t.id == id) return &t;
    return nullptr;
}

const char* supported_ggml_types() { return "f32, f16, bf16, q8_0, q4_0, q4_K, q6_K"; }

}  // namespace headscope::formats
