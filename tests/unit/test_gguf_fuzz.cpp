// Truncation at every cut point and random byte corruption: the GGUF reader must either succeed
// or throw headscope::Error — never crash, read out of bounds or throw anything else (run the
// unit tests under -DHEADSCOPE_SANITIZE=ON to have ASan/UBSan prove the "never").
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "headscope/error.hpp"
#include "headscope/formats/gguf_file.hpp"
#include "support/test_support.hpp"
#include "unit/test_gguf_builder.hpp"

using namespace headscope;
using namespace headscope::test::gguf;

namespace {
// Opens, reads every tensor and derives config and vocabulary (whose own errors are expected
// for corrupted metadata and swallowed here); file errors propagate.
void open_and_use(const std::string& path) {
    GgufFile f(path);
    for (const auto& t : f.tensors()) {
        std::vector<float> buf(static_cast<size_t>(t.numel()));
        f.read_f32(t, buf.data());
    }
    try {
        (void)gguf_model_config(f);
    } catch (const Error&) {
    }
    try {
        (void)gguf_vocabulary(f);
    } catch (const Error&) {
    }
}

// true when everything succeeded, false when a headscope::Error was thrown; any other
// exception escapes and fails the test.
bool exercise(const std::string& path) {
    try {
        open_and_use(path);
        return true;
    } catch (const Error&) {
        return false;
    }
}

// Writes a fresh file each time: rewriting a file in place through truncation makes ext4 flush
// it synchronously on close, which turns thousands of tiny writes into minutes.
void replace_file(const std::string& path, const std::string& bytes) {
    std::filesystem::remove(path);
    test::write_file(path, bytes);
}

// A small file that uses every metadata type and every supported tensor type.
GgufBuilder rich(uint32_t version) {
    GgufBuilder b = tiny_llama(version);
    b.kv("t.u8", kGgufU8, "\x7f");
    b.kv("t.i16", kGgufI16, "\xfe\xff");
    b.kv("t.f64", kGgufF64, std::string(8, '\0'));
    b.kv_bool("t.bool", true);
    b.kv("t.nested", kGgufArray,
         le_u32(kGgufArray) + b.count(1) + le_u32(kGgufString) + b.count(1) + b.str("z"));
    b.kv("t.bools", kGgufArray, le_u32(kGgufBool) + b.count(2) + std::string("\1\0", 2));
    std::string q8(34, '\0'), q4(18, '\0');
    q8[1] = 0x3c;  // scale 1.0
    q4[1] = 0x3c;
    for (int i = 0; i < 32; ++i) q8[2 + i] = static_cast<char>(i - 16);
    for (int i = 0; i < 16; ++i) q4[2 + i] = static_cast<char>(i * 17);
    b.tensor("q8", {32}, kGgmlQ8_0, q8);
    b.tensor("q4", {32}, kGgmlQ4_0, q4);
    b.tensor("h", {3}, kGgmlF16, std::string("\x00\x3c\x00\xc0\x01\x00", 6));
    b.tensor("bf", {2}, kGgmlBf16, std::string("\x80\x3f\x00\xc0", 4));
    return b;
}

class TruncationMatcher : public Catch::MatcherBase<FormatError> {
public:
    explicit TruncationMatcher(std::string file) : file_(std::move(file)) {}
    bool match(const FormatError& e) const override {
        if (e.file() != file_) return false;
        for (const char* phrase : {"truncated", "too short", "cannot fit", "claims a length", "past the end"})
            if (e.problem().find(phrase) != std::string::npos) return true;
        return false;
    }
    std::string describe() const override { return "is a FormatError about a truncated " + file_; }

private:
    std::string file_;
};
}  // namespace

TEST_CASE("GGUF: the builder's rich file is valid and decodes as specified", "[gguf][fuzz]") {
    test::TempDir tmp;
    const std::string path = tmp.file("rich.gguf");
    test::write_file(path, rich(3).build());
    GgufFile f(path);
    std::vector<float> v(32);
    f.read_f32(*f.find("q8"), v.data());
    CHECK(v[0] == -16.f);
    CHECK(v[31] == 15.f);
    f.read_f32(*f.find("q4"), v.data());
    CHECK(v[0] == -8.f);  // byte 0 = 0x00: low nibble 0 -> element 0, high nibble 0 -> element 16
    CHECK(v[16] == -8.f);
    CHECK(v[1] == -7.f);  // byte 1 = 0x11
    CHECK(v[17] == -7.f);
    CHECK(v[15] == 7.f);  // byte 15 = 0xff
    CHECK(v[31] == 7.f);
    f.read_f32(*f.find("h"), v.data());
    CHECK(v[0] == 1.f);
    CHECK(v[1] == -2.f);
    CHECK(v[2] == Approx(5.960464477539063e-08));  // smallest subnormal half
    f.read_f32(*f.find("bf"), v.data());
    CHECK(v[0] == 1.f);
    CHECK(v[1] == -2.f);
    CHECK(f.metadata().count("t.nested") == 0);
    CHECK(exercise(path));
}

TEST_CASE("GGUF: every truncation of a small file is a clean FormatError", "[gguf][fuzz]") {
    const uint32_t version = GENERATE(1u, 2u, 3u);
    INFO("GGUF v" << version);
    test::TempDir tmp;
    const std::string bytes = rich(version).build();
    const std::string path = tmp.file("cut.gguf");
    for (size_t len = 0; len < bytes.size(); ++len) {
        INFO("prefix of " << len << " of " << bytes.size() << " bytes");
        replace_file(path, bytes.substr(0, len));
        CHECK_THROWS_MATCHES(open_and_use(path), FormatError, TruncationMatcher(path));
    }
    replace_file(path, bytes);
    CHECK(exercise(path));
}

TEST_CASE("GGUF: truncations of a numpy-written file", "[gguf][fuzz]") {
    test::TempDir tmp;
    auto r = test::run_command({test::python(), test::source_dir() + "/tests/tools/gguf_writer.py", "--out",
                                tmp.path(), "--version", "2", "--alignment", "64", "--seed", "5"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const std::string bytes = test::read_file(tmp.file("model.gguf"));
    const std::string path = tmp.file("cut.gguf");
    // Every cut inside the header (the first 4 KiB), then a sample of cuts in the data.
    std::vector<size_t> cuts;
    for (size_t len = 0; len < 4096 && len < bytes.size(); ++len) cuts.push_back(len);
    std::mt19937_64 rng(42);
    for (int i = 0; i < 100; ++i) cuts.push_back(4096 + rng() % (bytes.size() - 4096));
    cuts.push_back(bytes.size() - 1);
    for (size_t len : cuts) {
        INFO("prefix of " << len << " of " << bytes.size() << " bytes");
        replace_file(path, bytes.substr(0, len));
        CHECK_THROWS_MATCHES(open_and_use(path), FormatError, TruncationMatcher(path));
    }
}

TEST_CASE("GGUF: random corruption never crashes", "[gguf][fuzz]") {
    const uint32_t version = GENERATE(1u, 3u);
    INFO("GGUF v" << version);
    test::TempDir tmp;
    const std::string original = rich(version).build();
    const std::string path = tmp.file("fuzz.gguf");
    std::mt19937_64 rng(20240601 + version);
    const uint64_t interesting[] = {0,
                                    1,
                                    0x7f,
                                    0x80,
                                    0xff,
                                    0xffff,
                                    0x7fffffff,
                                    0x80000000,
                                    0xffffffff,
                                    uint64_t{1} << 32,
                                    uint64_t{1} << 62,
                                    ~uint64_t{0}};
    int ok = 0, rejected = 0;
    // HEADSCOPE_FUZZ_ITERATIONS raises the count for a longer run (e.g. under ASan).
    const char* env = std::getenv("HEADSCOPE_FUZZ_ITERATIONS");
    const int iterations = env ? std::max(1, std::atoi(env)) : 4000;
    for (int iteration = 0; iteration < iterations; ++iteration) {
        std::string bytes = original;
        const int edits = 1 + static_cast<int>(rng() % 4);
        for (int e = 0; e < edits; ++e) {
            // Mostly the header, where the structure lives; sometimes anywhere.
            const size_t limit = (rng() % 4 == 0) ? bytes.size() : std::min<size_t>(bytes.size(), 700);
            const size_t at = rng() % limit;
            if (rng() % 3 == 0) {
                const uint64_t v = interesting[rng() % (sizeof interesting / sizeof *interesting)];
                for (size_t k = 0; k < 8 && at + k < bytes.size(); ++k)
                    bytes[at + k] = static_cast<char>((v >> (8 * k)) & 0xff);
            } else {
                bytes[at] = static_cast<char>(bytes[at] ^ static_cast<char>(1 + rng() % 255));
            }
        }
        if (rng() % 8 == 0) bytes.resize(rng() % bytes.size());
        replace_file(path, bytes);
        INFO("iteration " << iteration);
        (exercise(path) ? ok : rejected)++;
    }
    // Both outcomes occur: flips in tensor data still open, flips in structure are refused.
    CHECK(ok > 0);
    CHECK(rejected > 0);
}
