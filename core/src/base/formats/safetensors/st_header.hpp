// Parsing and validation of a safetensors JSON header. Everything a reader later relies on is
// checked here, against the size of the data buffer, before any tensor byte is read.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "formats/safetensors/st_dtype.hpp"

namespace headscope::st {

// The header may not exceed this many bytes (the reference implementation's limit).
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

struct HeaderEntry {
    std::string name;
    const DtypeInfo* dtype = nullptr;
    std::vector<int64_t> shape;
    uint64_t begin = 0;  // relative to the start of the data buffer
    uint64_t end = 0;
};

struct Header {
    std::vector<HeaderEntry> entries;  // ordered by data offset (then name)
    std::vector<std::pair<std::string, std::string>> metadata;
};

// Parses `json` (the header bytes) of `file`, whose data buffer holds `data_size` bytes.
// Throws FormatError(file, ...) naming the tensor and the problem: bad JSON, wrong types,
// unknown dtype, negative or overflowing shape, offsets that disagree with shape x dtype, run
// past the buffer, or overlap another tensor.
Header parse_header(const std::string& file, std::string_view json, uint64_t data_size);

}  // namespace headscope::st
