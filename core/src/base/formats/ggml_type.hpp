// The table of ggml tensor type ids as they appear in GGUF tensor infos: every id ggml has
// assigned (so an unsupported one is named in the error), and for the ones headscope reads, the
// StorageType they decode as.
#pragma once

#include <cstdint>
#include <optional>

#include "headscope/tensor_source.hpp"

namespace headscope::formats {

struct GgmlType {
    uint32_t id;
    const char* name;                    // ggml's name: "f32", "q4_1", "q6_K", ...
    std::optional<StorageType> storage;  // set when headscope can read it
};

// nullptr when ggml never assigned this id.
const GgmlType* find_ggml_type(uint32_t id);

// "f32, f16, bf16, q8_0, q4_0, q4_K, q6_K", for error messages.
const char* supported_ggml_types();

}  // namespace headscope::formats
