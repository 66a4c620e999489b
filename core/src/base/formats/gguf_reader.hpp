// Version-aware primitives of the GGUF header on top of BinaryReader: counts and lengths
// (uint32 in GGUF v1, uint64 in v2/v3), strings, and typed metadata values. Sizes claimed by the
// file are checked against the bytes that remain before anything is allocated.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "formats/binary_reader.hpp"
#include "headscope/formats/gguf_file.hpp"

namespace headscope::formats {

// GGUF metadata value type ids.
enum class GgufType : uint32_t {
    uint8 = 0,
    int8 = 1,
    uint16 = 2,
    int16 = 3,
    uint32 = 4,
    int32 = 5,
    float32 = 6,
    boolean = 7,
    string = 8,
    array = 9,
    uint64 = 10,
    int64 = 11,
    float64 = 12
};

class GgufReader {
public:
    GgufReader(BinaryReader& reader, uint32_t version) : r_(reader), wide_(version >= 2) {}

    BinaryReader& raw() { return r_; }
    uint64_t count_bytes() const { return wide_ ? 8 : 4; }
    // A count or length: uint32 in v1, uint64 in v2 and later.
    uint64_t count(const char* what) { return wide_ ? r_.u64(what) : r_.u32(what); }
    std::string string(const char* what);

    // Reads one value of the given type id. Nested arrays (arrays of arrays) are walked with
    // bounds checks but not kept: the result is nullopt.
    std::optional<GgufValue> value(uint32_t type);

private:
    GgufValue::Array array(uint32_t element_type, uint64_t n);
    void skip_value(uint32_t type, int depth);
    // Throws unless n elements, each at least min_bytes long, can fit in what remains.
    void require_elements(uint64_t n, uint64_t min_bytes, const char* what);
    uint64_t min_value_bytes(uint32_t type) const;
    int64_t read_integer(uint32_t type);

    BinaryReader& r_;
    bool wide_;
};

// "integer", "float", "bool", "string", "array of strings", ... for type-mismatch messages.
std::string describe_value_kind(const GgufValue& v);

}  // namespace headscope::formats
