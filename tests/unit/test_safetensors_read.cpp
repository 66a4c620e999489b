// Reading safetensors files written by an independent writer (tests/tools/st_writer.py, numpy):
// every value must equal numpy's float32 conversion exactly.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "headscope/error.hpp"
#include "headscope/formats/safetensors_file.hpp"
#include "test_safetensors_support.hpp"

using namespace headscope;
using namespace headscope::test;
namespace fs = std::filesystem;

namespace {

nlohmann::json expected_json() {
    return nlohmann::json::parse(read_file(st_fixtures_dir() + "/expected.json"));
}

// Equal bit for bit; for NaN, equal up to the quiet bit (hardware conversions may set it).
bool same_value(float expected, float got) {
    if (std::isnan(expected))
        return std::isnan(got) && ((bits_of(expected) | 0x00400000u) == (bits_of(got) | 0x00400000u));
    return bits_of(expected) == bits_of(got);
}

StorageType storage_of(const std::string& dtype) {
    if (dtype == "F32") return StorageType::f32;
    if (dtype == "F16") return StorageType::f16;
    return StorageType::bf16;
}

// Compares every tensor of `source` named in expected.json (and present in `source`).
size_t check_against_numpy(const TensorSource& source) {
    auto desc = expected_json();
    size_t checked = 0;
    for (const auto& t : source.tensors()) {
        INFO("tensor " << t.name);
        REQUIRE(desc["tensors"].contains(t.name));
        const auto& e = desc["tensors"][t.name];
        CHECK(t.shape == e["shape"].get<std::vector<int64_t>>());
        CHECK(t.type == storage_of(e["dtype"].get<std::string>()));
        const auto expected = read_f32_file(st_fixtures_dir() + "/" + e["file"].get<std::string>());
        REQUIRE(static_cast<int64_t>(expected.size()) == t.numel());
        std::vector<float> got(expected.size() + 1, 12345.0f);  // one guard element
        source.read_f32(t, got.data());
        size_t mismatches = 0;
        for (size_t i = 0; i < expected.size(); ++i)
            if (!same_value(expected[i], got[i])) {
                if (mismatches++ < 5) UNSCOPED_INFO("index " << i << ": expected bits " << std::hex
                                                    << bits_of(expected[i]) << " got " << bits_of(got[i]));
            }
        CHECK(mismatches == 0);
        CHECK(got.back() == 12345.0f);  // nothing written past numel
        ++checked;
    }
    return checked;
}

}  // namespace

TEST_CASE("safetensors: f32/f16/bf16 values equal numpy's float32 exactly", "[safetensors]") {
    SafetensorsFile file(st_fixtures_dir() + "/mixed.safetensors");
    // 5 random tensors + every f16 pattern + every bf16 pattern + the empty tensor.
    CHECK(check_against_numpy(file) == 8);
    CHECK(file.path() == st_fixtures_dir() + "/mixed.safetensors");
}

TEST_CASE("safetensors: every f16 and bf16 bit pattern converts exactly", "[safetensors]") {
    SafetensorsFile file(st_fixtures_dir() + "/mixed.safetensors");
    const TensorInfo* f16 = file.find("f16_all");
    const TensorInfo* bf16 = file.find("bf16_all");
    REQUIRE(f16);
    REQUIRE(bf16);
    CHECK(f16->type == StorageType::f16);
    CHECK(bf16->shape == std::vector<int64_t>{256, 256});
    std::vector<float> h(65536), b(65536);
    file.read_f32(*f16, h.data());
    file.read_f32(*bf16, b.data());
    // Published IEEE-754 facts, independent of numpy: 0x3c00 = 1, 0x0001 = 2^-24 (smallest
    // subnormal), 0x7bff = 65504 (largest finite), 0x7c00 = +inf, 0x8000 = -0.
    CHECK(h[0x3c00] == 1.0f);
    CHECK(h[0x0001] == std::ldexp(1.0f, -24));
    CHECK(h[0x03ff] == std::ldexp(1023.0f, -24));
    CHECK(h[0x7bff] == 65504.0f);
    CHECK(std::isinf(h[0x7c00]));
    CHECK(bits_of(h[0x8000]) == 0x80000000u);
    CHECK(std::isnan(h[0x7e00]));
    // bf16 0x3f80 = 1, 0xc040 = -3.
    CHECK(b[0x3f80] == 1.0f);
    CHECK(b[0xc040] == -3.0f);
}

TEST_CASE("safetensors: header facts — metadata, offsets, empty and scalar tensors", "[safetensors]") {
    const std::string path = st_fixtures_dir() + "/mixed.safetensors";
    SafetensorsFile file(path);
    auto desc = expected_json();
    std::vector<std::pair<std::string, std::string>> want;
    for (auto it = desc["metadata"].begin(); it != desc["metadata"].end(); ++it)
        want.emplace_back(it.key(), it.value().get<std::string>());
    auto got = file.metadata();
    std::sort(got.begin(), got.end());
    CHECK(got == want);

    const TensorInfo* scalar = file.find("scalar");
    REQUIRE(scalar);
    CHECK(scalar->shape.empty());
    CHECK(scalar->numel() == 1);
    CHECK(scalar->nbytes == 4);
    const TensorInfo* empty = file.find("empty");
    REQUIRE(empty);
    CHECK(empty->numel() == 0);
    CHECK(empty->nbytes == 0);
    file.read_f32(*empty, nullptr);  // nothing to copy

    // TensorInfo.offset is absolute in the file: the raw bytes there are the tensor's f32 data.
    const TensorInfo* w = file.find("w_f32");
    REQUIRE(w);
    CHECK(w->nbytes == 3 * 5 * 4);
    const std::string raw = read_file(path);
    REQUIRE(w->offset + w->nbytes <= raw.size());
    CHECK(raw.compare(w->offset, w->nbytes,
                      f32_bytes(read_f32_file(st_fixtures_dir() + "/expected/w_f32.f32"))) == 0);
}

TEST_CASE("safetensors: tensors of dtypes headscope cannot convert are listed nowhere and "
          "explain themselves when asked for", "[safetensors]") {
    SafetensorsFile file(st_fixtures_dir() + "/mixed.safetensors");
    CHECK(file.find("ids") == nullptr);  // I64
    CHECK(file.find("mask") == nullptr);  // BOOL
    TensorInfo ids;
    ids.name = "ids";
    ids.shape = {4};
    std::vector<float> dst(4);
    try {
        file.read_f32(ids, dst.data());
        FAIL("reading an I64 tensor must throw");
    } catch (const FormatError& e) {
        CHECK(e.file() == file.path());
        CHECK_THAT(e.problem(), Catch::Contains("'ids'") && Catch::Contains("I64") &&
                                    Catch::Contains("F32, F16, BF16"));
    }
    TensorInfo nobody;
    nobody.name = "no.such.tensor";
    CHECK_THROWS_AS(file.read_f32(nobody, dst.data()), UsageError);
    // A TensorInfo whose shape disagrees with the file's would overflow dst: refused.
    TensorInfo wrong = *file.find("w_f32");
    wrong.shape = {2, 2};
    CHECK_THROWS_AS(file.read_f32(wrong, dst.data()), UsageError);
}

TEST_CASE("safetensors: sharded checkpoint via model.safetensors.index.json", "[safetensors]") {
    const std::string dir = st_fixtures_dir() + "/sharded";
    SafetensorsCheckpoint ckpt(dir);
    CHECK(ckpt.path() == dir);
    CHECK(ckpt.tensors().size() == 6);
    CHECK(check_against_numpy(ckpt) == 6);

    // offset is within the tensor's own shard.
    const TensorInfo* norm = ckpt.find("model.norm.weight");
    REQUIRE(norm);
    const std::string shard2 = read_file(dir + "/model-00002-of-00002.safetensors");
    CHECK(shard2.compare(norm->offset, norm->nbytes,
                         f32_bytes(read_f32_file(st_fixtures_dir() + "/expected/model.norm.weight.f32"))) == 0);

    // The index file itself may be given.
    SafetensorsCheckpoint via_index(dir + "/model.safetensors.index.json");
    CHECK(via_index.tensors().size() == 6);
}

TEST_CASE("safetensors: checkpoint from a directory with model.safetensors, or a file", "[safetensors]") {
    TempDir dir;
    fs::copy_file(st_fixtures_dir() + "/mixed.safetensors", dir.file("model.safetensors"));
    SafetensorsCheckpoint from_dir(dir.path());
    CHECK(check_against_numpy(from_dir) == 8);
    SafetensorsCheckpoint from_file(st_fixtures_dir() + "/mixed.safetensors");
    CHECK(from_file.tensors().size() == 8);
    TensorInfo ids;
    ids.name = "ids";
    ids.shape = {4};
    float dst[4];
    CHECK_THROWS_AS(from_dir.read_f32(ids, dst), FormatError);  // I64, explained by the file
}
