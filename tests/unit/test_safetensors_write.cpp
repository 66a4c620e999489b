// write_safetensors, checked by an independent parser (tests/tools/st_writer.py read) and
// against the reference implementation's layout.
#include <cmath>
#include <filesystem>
#include <limits>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "headscope/error.hpp"
#include "headscope/formats/safetensors_file.hpp"
#include "test_safetensors_support.hpp"

using namespace headscope;
using namespace headscope::test;
namespace fs = std::filesystem;

namespace {

nlohmann::json python_read(const std::string& path) {
    auto r = run_command({python(), source_dir() + "/tests/tools/st_writer.py", "read", path});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return nlohmann::json::parse(r.out);
}

std::vector<std::string> temp_leftovers(const std::string& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.path().filename().string().find(".tmp-") != std::string::npos) out.push_back(e.path());
    return out;
}

float from_bits(uint32_t b) {
    float f;
    std::memcpy(&f, &b, 4);
    return f;
}

}  // namespace

TEST_CASE("write_safetensors: an independent parser reads back every bit", "[safetensors]") {
    TempDir dir;
    const std::string path = dir.file("out.safetensors");
    const std::vector<float> weight = {1.0f, -0.0f, std::numeric_limits<float>::infinity(),
                                       -std::numeric_limits<float>::infinity(), from_bits(0x7fc00001u),
                                       1e-40f /* subnormal */, std::numeric_limits<float>::max(),
                                       -123.456f};
    const std::vector<float> bias = {0.5f, 0.25f, -8.0f};
    const float scalar = 3.25f;
    write_safetensors(path,
                      {{"z.weight", {2, 4}, weight.data()},
                       {"a.bias", {3}, bias.data()},
                       {"scalar", {}, &scalar},
                       {"empty", {0, 4}, nullptr}},
                      {{"format", "pt"}, {"note", "ünïcode \"quoted\""}});

    auto py = python_read(path);
    CHECK(py["aligned_to_8"] == true);  // 8 + header length is a multiple of 8
    CHECK(py["trailing_spaces"].get<int>() < 8);
    CHECK(py["json_ends_with_brace"] == true);
    CHECK(py["offsets_tile_buffer"] == true);  // no gaps, no trailing bytes
    CHECK(py["metadata"] == nlohmann::json{{"format", "pt"}, {"note", "ünïcode \"quoted\""}});

    const auto& t = py["tensors"];
    REQUIRE(t.size() == 4);
    auto bits = [](const std::vector<float>& v) {
        std::vector<uint32_t> b;
        for (float f : v) b.push_back(bits_of(f));
        return b;
    };
    CHECK(t["z.weight"]["dtype"] == "F32");
    CHECK(t["z.weight"]["shape"] == nlohmann::json{2, 4});
    CHECK(t["z.weight"]["bits"].get<std::vector<uint32_t>>() == bits(weight));
    CHECK(t["a.bias"]["bits"].get<std::vector<uint32_t>>() == bits(bias));
    CHECK(t["scalar"]["shape"] == nlohmann::json::array());
    CHECK(t["scalar"]["bits"].get<std::vector<uint32_t>>() == bits({scalar}));
    CHECK(t["empty"]["shape"] == nlohmann::json{0, 4});
    // The reference implementation lays tensors out by name (all are F32): a.bias, empty,
    // scalar, z.weight.
    CHECK(t["a.bias"]["data_offsets"] == nlohmann::json{0, 12});
    CHECK(t["empty"]["data_offsets"] == nlohmann::json{12, 12});
    CHECK(t["scalar"]["data_offsets"] == nlohmann::json{12, 16});
    CHECK(t["z.weight"]["data_offsets"] == nlohmann::json{16, 48});

    // And headscope's own reader agrees.
    SafetensorsFile back(path);
    std::vector<float> w(8);
    back.read_f32(*back.find("z.weight"), w.data());
    CHECK(bits(w) == bits(weight));
    CHECK(temp_leftovers(dir.path()).empty());
}

TEST_CASE("write_safetensors: replaces files atomically and leaves nothing behind on error",
          "[safetensors]") {
    TempDir dir;
    const std::string path = dir.file("model.safetensors");
    const std::vector<float> a = {1, 2, 3}, b = {4, 5};
    write_safetensors(path, {{"x", {3}, a.data()}});
    write_safetensors(path, {{"y", {2}, b.data()}});
    SafetensorsFile file(path);
    REQUIRE(file.tensors().size() == 1);
    CHECK(file.tensors()[0].name == "y");
    CHECK(temp_leftovers(dir.path()).empty());

    const std::string fresh = dir.file("fresh.safetensors");
    CHECK_THROWS_AS(write_safetensors(fresh, {{"x", {3}, a.data()}, {"x", {2}, b.data()}}), UsageError);
    CHECK_THROWS_AS(write_safetensors(fresh, {{"x", {-1}, a.data()}}), UsageError);
    CHECK_THROWS_AS(write_safetensors(fresh, {{"x", {3}, nullptr}}), UsageError);
    CHECK_THROWS_AS(write_safetensors(fresh, {{"__metadata__", {1}, a.data()}}), UsageError);
    CHECK_THROWS_AS(write_safetensors(fresh, {{"x", {1}, a.data()}}, {{"k", "v"}, {"k", "w"}}), UsageError);
    CHECK_THROWS_AS(write_safetensors(fresh, {{std::string("bad\xff"), {1}, a.data()}}), UsageError);
    CHECK_FALSE(fs::exists(fresh));
    CHECK(temp_leftovers(dir.path()).empty());
    CHECK_THROWS_AS(write_safetensors(dir.file("no/such/dir/x.safetensors"), {{"x", {3}, a.data()}}),
                    IoError);
    // The previous good file is untouched by the failed writes.
    SafetensorsFile again(path);
    CHECK(again.tensors()[0].name == "y");
}
