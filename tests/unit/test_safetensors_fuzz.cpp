// Seeded mutation fuzzing: whatever the bytes, opening a safetensors file (or a sharded
// checkpoint) and reading every tensor either succeeds or throws headscope::Error — never
// crashes, never reads out of bounds (run under ASan/UBSan to prove it).
#include <filesystem>
#include <random>

#include <catch2/catch.hpp>

#include "headscope/error.hpp"
#include "headscope/formats/safetensors_file.hpp"
#include "test_safetensors_support.hpp"

using namespace headscope;
using namespace headscope::test;
namespace fs = std::filesystem;

namespace {

// Returns true when everything was read, false when a headscope::Error was thrown. Any other
// exception escapes and fails the test.
template <class Source>
bool open_and_read_all(const std::string& path) {
    try {
        Source source(path);
        for (const auto& t : source.tensors()) {
            REQUIRE(t.numel() >= 0);
            REQUIRE(t.numel() <= (int64_t{1} << 24));  // bounded by the file size
            std::vector<float> buf(static_cast<size_t>(t.numel()));
            source.read_f32(t, buf.data());
        }
        return true;
    } catch (const Error&) {
        return false;
    }
}

// Replaces the file by unlinking first: truncating a file in place makes ext4 flush it to disk
// (auto_da_alloc), which would dominate the loop's run time.
void replace_file(const std::string& path, const std::string& bytes) {
    fs::remove(path);
    write_file(path, bytes);
}

std::string valid_file(std::mt19937& rng) {
    std::string data;
    for (int i = 0; i < 6 * 4 + 5 * 2 + 4 * 2; ++i) data += static_cast<char>(rng() & 0xff);
    return st_bytes(R"({"__metadata__":{"format":"pt"},)"
                    R"("a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},)"
                    R"("b":{"dtype":"F16","shape":[5],"data_offsets":[24,34]},)"
                    R"("c":{"dtype":"BF16","shape":[2,2],"data_offsets":[34,42]}})",
                    data);
}

std::string mutate(std::string bytes, size_t header_end, std::mt19937& rng) {
    auto pick = [&](size_t lo, size_t hi) { return lo + rng() % (hi - lo); };
    switch (rng() % 6) {
        case 0:  // random bytes in the JSON header
            for (int k = 1 + rng() % 4; k > 0; --k) bytes[pick(8, header_end)] = static_cast<char>(rng());
            break;
        case 1:  // the length prefix
            bytes[pick(0, 8)] = static_cast<char>(rng());
            break;
        case 2:  // truncate
            bytes.resize(pick(0, bytes.size()));
            break;
        case 3: {  // change digits: keeps the JSON valid, moves shapes and offsets around
            for (int k = 1 + rng() % 3; k > 0; --k) {
                size_t at = pick(8, header_end);
                for (size_t i = 0; i < header_end - 8; ++i) {
                    size_t p = 8 + (at - 8 + i) % (header_end - 8);
                    if (bytes[p] >= '0' && bytes[p] <= '9') {
                        bytes[p] = static_cast<char>('0' + rng() % 10);
                        if (rng() % 4 == 0) bytes.insert(p, 1, static_cast<char>('0' + rng() % 10));
                        break;
                    }
                }
            }
            break;
        }
        case 4:  // anything anywhere, data included
            for (int k = 1 + rng() % 8; k > 0; --k) bytes[pick(0, bytes.size())] = static_cast<char>(rng());
            break;
        default: {  // swap a dtype name
            static const char* names[] = {"F32", "F16", "I64", "U8", "F4", "BOOL", "F64", "XX"};
            size_t p = bytes.find("F16");
            if (p != std::string::npos) bytes.replace(p, 3, names[rng() % 8]);
            break;
        }
    }
    return bytes;
}

}  // namespace

TEST_CASE("safetensors fuzz: mutated files never crash the reader", "[safetensors][fuzz]") {
    std::mt19937 rng(0x5afe7e75u);
    TempDir dir;
    const std::string path = dir.file("fuzz.safetensors");
    const std::string base = valid_file(rng);
    write_file(path, base);
    REQUIRE(open_and_read_all<SafetensorsFile>(path));
    const size_t header_end = base.size() - 42;

    int ok = 0, rejected = 0;
    for (int i = 0; i < 4000; ++i) {
        replace_file(path, mutate(base, header_end, rng));
        (open_and_read_all<SafetensorsFile>(path) ? ok : rejected)++;
    }
    INFO("accepted " << ok << ", rejected " << rejected);
    CHECK(ok > 100);
    CHECK(rejected > 1000);
}

TEST_CASE("safetensors fuzz: mutated sharded checkpoints never crash", "[safetensors][fuzz]") {
    std::mt19937 rng(0xc0ffeeu);
    TempDir dir;
    write_file(dir.file("s1.safetensors"), valid_file(rng));
    write_file(dir.file("s2.safetensors"),
               st_bytes(R"({"d":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", f32_bytes({1, 2})));
    const std::string index =
        R"({"metadata":{"total_size":50},"weight_map":{"a":"s1.safetensors","b":"s1.safetensors",)"
        R"("c":"s1.safetensors","d":"s2.safetensors"}})";
    const std::string index_path = dir.file("model.safetensors.index.json");
    write_file(index_path, index);
    REQUIRE(open_and_read_all<SafetensorsCheckpoint>(dir.path()));

    int ok = 0, rejected = 0;
    for (int i = 0; i < 1500; ++i) {
        std::string text = index;
        for (int k = 1 + rng() % 3; k > 0; --k) {
            size_t p = rng() % text.size();
            switch (rng() % 3) {
                case 0: text[p] = static_cast<char>(rng()); break;
                case 1: text.erase(p, 1 + rng() % 4); break;
                default: text.insert(p, rng() % 2 ? "../" : "/"); break;
            }
        }
        replace_file(index_path, text);
        (open_and_read_all<SafetensorsCheckpoint>(dir.path()) ? ok : rejected)++;
    }
    INFO("accepted " << ok << ", rejected " << rejected);
    CHECK(rejected > 0);
    fs::remove(index_path);
}
