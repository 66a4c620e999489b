#include "formats/safetensors/st_dtype.hpp"

#include <iterator>

namespace headscope::st {

namespace {
// Every dtype of the safetensors specification (huggingface/safetensors, Dtype enum).
const DtypeInfo kDtypes[] = {
    {"F32", 32, StorageType::f32},    {"F16", 16, StorageType::f16},
    {"BF16", 16, StorageType::bf16},  {"BOOL", 8, std::nullopt},
    {"U8", 8, std::nullopt},          {"I8", 8, std::nullopt},
    {"F8_E5M2", 8, std::nullopt},     {"F8_E4M3", 8, std::nullopt},
    {"F8_E8M0", 8, std::nullopt},     {"I16", 16, std::nullopt},
    {"U16", 16, std::nullopt},        {"I32", 32, std::nullopt},
    {"U32", 32, std::nullopt},        {"F64", 64, std::nullopt},
    {"I64", 64, std::nullopt},        {"U64", 64, std::nullopt},
    {"C64", 64, std::nullopt},        {"F4", 4, std::nullopt},
    {"F6_E2M3", 6, std::nullopt},     {"F6_E3M2", 6, std::nullopt},
};
}  // namespace

const DtypeInfo* find_dtype(std::string_view name) {
    for (const auto& d : kDtypes)
        if (name == d.name) return &d;
    return nullptr;
}

const DtypeInfo* dtype_for(StorageType type) {
    for (const auto& d : kDtypes)
        if (d.storage && *d.storage == type) return &d;
    return nullptr;
}

std::string supported_dtypes() {
    std::string out;
    for (const auto& d : kDtypes) {
        if (!d.storage) continue;
        if (!out.empty()) out += ", ";
        out += d.name;
    }
    return out;
}

std::string known_dtypes() {
    std::string out;
    for (const auto& d : kDtypes) {
        if (!out.empty()) out += ", ";
        out += d.name;
    }
    return out;
}

}  // namespace headscope::st
