// Helpers for the safetensors tests: hand-built files (bytes assembled here, independently of
// the reader under test) and the fixtures written by tests/tools/st_writer.py (numpy).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "support/test_support.hpp"

namespace headscope::test {

inline std::string le64(uint64_t n) {
    std::string out(8, '\0');
    for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
    return out;
}

// 8-byte length + header (padded with spaces to 8 bytes) + data.
inline std::string st_bytes(std::string header, const std::string& data) {
    header.append((8 - header.size() % 8) % 8, ' ');
    return le64(header.size()) + header + data;
}

inline std::string f32_bytes(const std::vector<float>& v) {
    std::string out(v.size() * 4, '\0');
    if (!v.empty()) std::memcpy(out.data(), v.data(), out.size());  // the test machine is little-endian
    return out;
}

inline uint32_t bits_of(float f) {
    uint32_t b;
    std::memcpy(&b, &f, 4);
    return b;
}

// Runs st_writer.py fixtures once per test process; returns the folder.
inline const std::string& st_fixtures_dir() {
    static TempDir dir;
    static bool made = false;
    if (!made) {
        auto r = run_command({python(), source_dir() + "/tests/tools/st_writer.py", "fixtures",
                              dir.path(), "--seed", "20240611"});
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        made = true;
    }
    return dir.path();
}

inline std::vector<float> read_f32_file(const std::string& path) {
    std::string raw = read_file(path);
    std::vector<float> v(raw.size() / 4);
    if (!v.empty()) std::memcpy(v.data(), raw.data(), v.size() * 4);
    return v;
}

}  // namespace headscope::test
