#include "formats/gguf_reader.hpp"

#include <algorithm>
#include <limits>

#include <fmt/format.h>

#include "formats/checked_math.hpp"

namespace headscope::formats {

namespace {
constexpr int kMaxArrayNesting = 8;
constexpr uint64_t kMaxReserve = uint64_t{1} << 16;

bool is_integer_type(uint32_t t) {
    switch (static_cast<GgufType>(t)) {
        case GgufType::uint8:
        case GgufType::int8:
        case GgufType::uint16:
        case GgufType::int16:
        case GgufType::uint32:
        case GgufType::int32:
        case GgufType::uint64:
        case GgufType::int64: return true;
        default: return false;
    }
}
bool is_float_type(uint32_t t) {
    return t == static_cast<uint32_t>(GgufType::float32) || t == static_cast<uint32_t>(GgufType::float64);
}
}  // namespace

std::string GgufReader::string(const char* what) {
    const uint64_t at = r_.offset();
    const uint64_t n = count(what);
    if (n > r_.remaining())
        r_.fail(
            fmt::format("{} at offset {} claims a length of {} bytes, but only {} bytes remain in the file",
                        what, at, n, r_.remaining()));
    return std::string(r_.bytes(n, what));
}

uint64_t GgufReader::min_value_bytes(uint32_t type) const {
    switch (static_cast<GgufType>(type)) {
        case GgufType::uint8:
        case GgufType::int8:
        case GgufType::boolean: return 1;
        case GgufType::uint16:
        case GgufType::int16: return 2;
        case GgufType::uint32:
        case GgufType::int32:
        case GgufType::float32: return 4;
        case GgufType::uint64:
        case GgufType::int64:
        case GgufType::float64: return 8;
        case GgufType::string: return count_bytes();
        case GgufType::array: return 4 + count_bytes();
    }
    return 1;
}

void GgufReader::require_elements(uint64_t n, uint64_t min_bytes, const char* what) {
    uint64_t total = 0;
    if (!checked_mul(n, min_bytes, &total) || total > r_.remaining())
        r_.fail(fmt::format(
            "{} at offset {} claims {} elements, which cannot fit in the {} bytes that remain in the file",
            what, r_.offset(), n, r_.remaining()));
}

int64_t GgufReader::read_integer(uint32_t type) {
    switch (static_cast<GgufType>(type)) {
        case GgufType::uint8: return r_.u8("uint8 value");
        case GgufType::int8: return r_.i8("int8 value");
        case GgufType::uint16: return r_.u16("uint16 value");
        case GgufType::int16: return r_.i16("int16 value");
        case GgufType::uint32: return r_.u32("uint32 value");
        case GgufType::int32: return r_.i32("int32 value");
        case GgufType::int64: return r_.i64("int64 value");
        case GgufType::uint64: {
            const uint64_t at = r_.offset();
            const uint64_t v = r_.u64("uint64 value");
            if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
                r_.fail(fmt::format(
                    "uint64 value {} at offset {} is larger than {} (the largest value headscope keeps)", v,
                    at, std::numeric_limits<int64_t>::max()));
            return static_cast<int64_t>(v);
        }
        default: break;
    }
    r_.fail(fmt::format("internal: {} is not an integer type", type));
}

std::optional<GgufValue> GgufReader::value(uint32_t type) {
    if (is_integer_type(type)) return GgufValue{read_integer(type)};
    switch (static_cast<GgufType>(type)) {
        case GgufType::float32: return GgufValue{static_cast<double>(r_.f32("float32 value"))};
        case GgufType::float64: return GgufValue{r_.f64("float64 value")};
        case GgufType::boolean: {
            const uint64_t at = r_.offset();
            const uint8_t b = r_.u8("bool value");
            if (b > 1) r_.fail(fmt::format("bool value at offset {} is {}, expected 0 or 1", at, b));
            return GgufValue{b == 1};
        }
        case GgufType::string: return GgufValue{string("string value")};
        case GgufType::array: {
            const uint64_t at = r_.offset();
            const uint32_t element_type = r_.u32("array element type");
            if (element_type > static_cast<uint32_t>(GgufType::float64))
                r_.fail(fmt::format("array at offset {} has unknown element type {} (expected 0..12)", at,
                                    element_type));
            const uint64_t n = count("array length");
            require_elements(n, min_value_bytes(element_type), "array");
            if (element_type == static_cast<uint32_t>(GgufType::array)) {
                for (uint64_t i = 0; i < n; ++i) skip_value(element_type, 1);
                return std::nullopt;
            }
            return GgufValue{array(element_type, n)};
        }
        default: break;
    }
    r_.fail(fmt::format("unknown metadata value type {} (expected 0..12)", type));
}

GgufValue::Array GgufReader::array(uint32_t element_type, uint64_t n) {
    // n * min_value_bytes(element_type) fits in the file (checked by the caller); reservations
    // are capped anyway so a corrupt count in a multi-gigabyte file cannot ask for a huge block.
    const size_t reserve = static_cast<size_t>(std::min<uint64_t>(n, kMaxReserve));
    if (is_integer_type(element_type)) {
        std::vector<int64_t> out;
        out.reserve(reserve);
        for (uint64_t i = 0; i < n; ++i) out.push_back(read_integer(element_type));
        return out;
    }
    if (is_float_type(element_type)) {
        std::vector<double> out;
        out.reserve(reserve);
        const bool f32 = element_type == static_cast<uint32_t>(GgufType::float32);
        for (uint64_t i = 0; i < n; ++i)
            out.push_back(f32 ? static_cast<double>(r_.f32("float32 array element"))
                              : r_.f64("float64 array element"));
        return out;
    }
    if (element_type == static_cast<uint32_t>(GgufType::boolean)) {
        std::vector<bool> out;
        out.reserve(reserve);
        for (uint64_t i = 0; i < n; ++i) {
            const uint64_t at = r_.offset();
            const uint8_t b = r_.u8("bool array element");
            if (b > 1) r_.fail(fmt::format("bool array element at offset {} is {}, expected 0 or 1", at, b));
            out.push_back(b == 1);
        }
        return out;
    }
    // Strings: not reserved up front (each may be empty, so the claimed count is only loosely
    // bounded); growth stops at the first string that runs past the end of the file.
    std::vector<std::string> out;
    for (uint64_t i = 0; i < n; ++i) out.push_back(string("string array element"));
    return out;
}

void GgufReader::skip_value(uint32_t type, int depth) {
    if (type == static_cast<uint32_t>(GgufType::string)) {
        (void)string("string array element");
        return;
    }
    if (type != static_cast<uint32_t>(GgufType::array)) {
        r_.skip(min_value_bytes(type), "array element");
        return;
    }
    if (depth > kMaxArrayNesting)
        r_.fail(fmt::format("arrays nested more than {} deep at offset {}", kMaxArrayNesting, r_.offset()));
    const uint64_t at = r_.offset();
    const uint32_t element_type = r_.u32("array element type");
    if (element_type > static_cast<uint32_t>(GgufType::float64))
        r_.fail(
            fmt::format("array at offset {} has unknown element type {} (expected 0..12)", at, element_type));
    const uint64_t n = count("array length");
    require_elements(n, min_value_bytes(element_type), "array");
    if (element_type != static_cast<uint32_t>(GgufType::string) &&
        element_type != static_cast<uint32_t>(GgufType::array)) {
        r_.skip(n * min_value_bytes(element_type), "array elements");
        return;
    }
    for (uint64_t i = 0; i < n; ++i) skip_value(element_type, depth + 1);
}

std::string describe_value_kind(const GgufValue& v) {
    struct Visitor {
        std::string operator()(int64_t) const { return "an integer"; }
        std::string operator()(double) const { return "a float"; }
        std::string operator()(bool) const { return "a bool"; }
        std::string operator()(const std::string&) const { return "a string"; }
        std::string operator()(const GgufValue::Array& a) const {
            switch (a.index()) {
                case 0: return "an array of integers";
                case 1: return "an array of floats";
                case 2: return "an array of strings";
                default: return "an array of bools";
            }
        }
    };
    return std::visit(Visitor{}, v.value);
}

}  // namespace headscope::formats
