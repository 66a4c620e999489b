// The safetensors dtype strings, their element widths, and which ones headscope reads.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "headscope/tensor_source.hpp"

namespace headscope::st {

struct DtypeInfo {
    const char* name;                    // as written in the header, e.g. "BF16"
    unsigned bits;                       // element width in bits (F4 is 4, F6_* are 6)
    std::optional<StorageType> storage;  // set when headscope can convert it to float32
};

// nullptr when the string is not a safetensors dtype at all.
const DtypeInfo* find_dtype(std::string_view name);
// The dtype headscope stores for a StorageType (F32, F16, BF16); nullptr for the others.
const DtypeInfo* dtype_for(StorageType type);
// "F32, F16, BF16" — for error messages.
std::string supported_dtypes();
// Every dtype name the format defines, comma separated — for error messages.
std::string known_dtypes();

}  // namespace headscope::st
