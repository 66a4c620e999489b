// A cursor over an in-memory byte range (usually a MappedFile) that reads little-endian values.
// Every read checks the remaining length first and throws FormatError naming the file, the
// offset and what was being read, so no read can go past the end whatever the bytes say.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "headscope/error.hpp"

namespace headscope::formats {

class BinaryReader {
public:
    BinaryReader(const uint8_t* data, uint64_t size, std::string path)
        : data_(data), size_(size), path_(std::move(path)) {}

    const std::string& path() const { return path_; }
    uint64_t size() const { return size_; }
    uint64_t offset() const { return offset_; }
    uint64_t remaining() const { return size_ - offset_; }

    [[noreturn]] void fail(const std::string& problem) const { throw FormatError(path_, problem); }

    // Throws unless n more bytes can be read; `what` names the field for the message.
    void require(uint64_t n, const char* what) const {
        if (n > remaining())
            fail(fmt::format(
                "truncated file: reading {} at offset {} needs {} bytes, but the file ends at byte {}", what,
                offset_, n, size_));
    }

    uint8_t u8(const char* what) { return static_cast<uint8_t>(load(1, what)); }
    uint16_t u16(const char* what) { return static_cast<uint16_t>(load(2, what)); }
    uint32_t u32(const char* what) { return static_cast<uint32_t>(load(4, what)); }
    uint64_t u64(const char* what) { return load(8, what); }
    int8_t i8(const char* what) { return static_cast<int8_t>(u8(what)); }
    int16_t i16(const char* what) { return static_cast<int16_t>(u16(what)); }
    int32_t i32(const char* what) { return static_cast<int32_t>(u32(what)); }
    int64_t i64(const char* what) { return static_cast<int64_t>(u64(what)); }
    float f32(const char* what) {
        uint32_t bits = u32(what);
        float v;
        std::memcpy(&v, &bits, sizeof v);
        return v;
    }
    double f64(const char* what) {
        uint64_t bits = u64(what);
        double v;
        std::memcpy(&v, &bits, sizeof v);
        return v;
    }

    // A view of the next n bytes (valid while the underlying memory is).
    std::string_view bytes(uint64_t n, const char* what) {
        require(n, what);
        std::string_view view(reinterpret_cast<const char*>(data_ + offset_), static_cast<size_t>(n));
        offset_ += n;
        return view;
    }
    void skip(uint64_t n, const char* what) {
        require(n, what);
        offset_ += n;
    }

private:
    // Little-endian load of n <= 8 bytes, independent of the host byte order.
    uint64_t load(unsigned n, const char* what) {
        require(n, what);
        uint64_t v = 0;
        for (unsigned i = 0; i < n; ++i) v |= static_cast<uint64_t>(data_[offset_ + i]) << (8 * i);
        offset_ += n;
        return v;
    }

    const uint8_t* data_;
    uint64_t size_;
    uint64_t offset_ = 0;
    std::string path_;
};

}  // namespace headscope::formats
