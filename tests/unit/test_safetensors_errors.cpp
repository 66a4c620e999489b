// Malformed safetensors files and checkpoint directories: each must give a FormatError that
// names the file and says what is wrong — before any tensor byte is read.
#include <filesystem>

#include <catch2/catch.hpp>

#include "headscope/error.hpp"
#include "headscope/formats/safetensors_file.hpp"
#include "test_safetensors_support.hpp"

using namespace headscope;
using namespace headscope::test;
namespace fs = std::filesystem;

namespace {

// Opens `bytes` as a safetensors file; returns the FormatError's problem text (file checked).
std::string open_error(const std::string& bytes) {
    TempDir dir;
    const std::string path = dir.file("bad.safetensors");
    write_file(path, bytes);
    try {
        SafetensorsFile file(path);
        for (const auto& t : file.tensors()) {
            std::vector<float> buf(static_cast<size_t>(t.numel()));
            file.read_f32(t, buf.data());
        }
    } catch (const FormatError& e) {
        CHECK(e.file() == path);
        return e.problem();
    }
    FAIL("expected a FormatError");
    return {};
}

const std::string kF32x4 = R"("dtype":"F32","shape":[4])";

}  // namespace

TEST_CASE("safetensors errors: header length", "[safetensors]") {
    SECTION("past the end of the file") {
        CHECK_THAT(open_error(le64(1000) + "{}"),
                   Catch::Contains("header length 1000") && Catch::Contains("past the end of the file") &&
                       Catch::Contains("10 bytes"));
    }
    SECTION("huge") {
        CHECK_THAT(open_error(le64(uint64_t{1} << 62) + "{}"),
                   Catch::Contains("exceeds the 100000000-byte limit"));
    }
    SECTION("over the 100 MB cap even though the file is large enough") {
        TempDir dir;
        const std::string path = dir.file("sparse.safetensors");
        write_file(path, le64(150'000'000) + "{}");
        fs::resize_file(path, 200'000'000);  // sparse
        try {
            SafetensorsFile file(path);
            FAIL("expected FormatError");
        } catch (const FormatError& e) {
            CHECK_THAT(e.problem(), Catch::Contains("150000000") && Catch::Contains("limit"));
        }
    }
    SECTION("file shorter than the length field") {
        CHECK_THAT(open_error(std::string("\x05\0\0", 3)), Catch::Contains("8-byte header length"));
    }
    SECTION("zero") { CHECK_THAT(open_error(le64(0) + "xx"), Catch::Contains("header length is 0")); }
    SECTION("a PyTorch zip checkpoint renamed .safetensors is recognised") {
        CHECK_THAT(open_error(std::string("PK\x03\x04", 4) + std::string(60, 'z')),
                   Catch::Contains("pickle") && Catch::Contains("save_pretrained"));
    }
}

TEST_CASE("safetensors errors: JSON header", "[safetensors]") {
    CHECK_THAT(open_error(st_bytes(R"({"a": {"dtype": "F32", )", "")), Catch::Contains("not valid JSON"));
    CHECK_THAT(open_error(st_bytes("{\"a\xff\": 1}", "")), Catch::Contains("not valid JSON"));
    CHECK_THAT(open_error(st_bytes("[1, 2]", "")), Catch::Contains("array") && Catch::Contains("object"));
    CHECK_THAT(open_error(st_bytes(R"({"a": 3})", "")), Catch::Contains("'a'") && Catch::Contains("object"));
    CHECK_THAT(open_error(st_bytes(R"({"__metadata__": {"k": 1}})", "")),
               Catch::Contains("__metadata__") && Catch::Contains("\"k\"") && Catch::Contains("string"));
    CHECK_THAT(open_error(st_bytes(R"({"a": {"shape": [1], "data_offsets": [0, 4]}})", std::string(4, 0))),
               Catch::Contains("'a'") && Catch::Contains("no \"dtype\""));
}

TEST_CASE("safetensors errors: dtype", "[safetensors]") {
    auto p = open_error(st_bytes(R"({"w": {"dtype": "F33", "shape": [4], "data_offsets": [0, 16]}})",
                                 std::string(16, 0)));
    CHECK_THAT(p, Catch::Contains("'w'") && Catch::Contains("unknown dtype \"F33\"") &&
                      Catch::Contains("F32, F16, BF16"));
    CHECK_THAT(open_error(st_bytes(R"({"w": {"dtype": "float32", "shape": [4], "data_offsets": [0, 16]}})",
                                   std::string(16, 0))),
               Catch::Contains("unknown dtype \"float32\""));
    CHECK_THAT(open_error(st_bytes(R"({"w": {"dtype": 32, "shape": [4], "data_offsets": [0, 16]}})",
                                   std::string(16, 0))),
               Catch::Contains("\"dtype\" is a JSON number"));
}

TEST_CASE("safetensors errors: shapes", "[safetensors]") {
    CHECK_THAT(open_error(st_bytes(R"({"w": {"dtype": "F32", "shape": [-1, 4], "data_offsets": [0, 16]}})",
                                   std::string(16, 0))),
               Catch::Contains("'w'") && Catch::Contains("shape[0]") && Catch::Contains("negative"));
    CHECK_THAT(open_error(st_bytes(R"({"w": {"dtype": "F32", "shape": [2.0], "data_offsets": [0, 8]}})",
                                   std::string(8, 0))),
               Catch::Contains("shape[0]") && Catch::Contains("non-negative integer"));
    CHECK_THAT(open_error(st_bytes(R"({"w": {"dtype": "F32", "shape": 4, "data_offsets": [0, 16]}})",
                                   std::string(16, 0))),
               Catch::Contains("\"shape\""));
    CHECK_THAT(open_error(st_bytes(
                   R"({"w": {"dtype": "F32", "shape": [4294967296, 4294967296, 16], "data_offsets": [0, 16]}})",
                   std::string(16, 0))),
               Catch::Contains("overflows"));
}

TEST_CASE("safetensors errors: data offsets", "[safetensors]") {
    SECTION("size not matching shape x dtype") {
        CHECK_THAT(open_error(st_bytes(R"({"w": {)" + kF32x4 + R"(, "data_offsets": [0, 12]}})",
                                       std::string(16, 0))),
                   Catch::Contains("'w'") && Catch::Contains("span 12 bytes") &&
                       Catch::Contains("needs 16 bytes"));
    }
    SECTION("begin after end") {
        CHECK_THAT(open_error(st_bytes(R"({"w": {)" + kF32x4 + R"(, "data_offsets": [16, 0]}})",
                                       std::string(16, 0))),
                   Catch::Contains("'w'") && Catch::Contains("begin after end"));
    }
    SECTION("past the end of the file") {
        CHECK_THAT(open_error(st_bytes(R"({"w": {)" + kF32x4 + R"(, "data_offsets": [100, 116]}})",
                                       std::string(16, 0))),
                   Catch::Contains("'w'") && Catch::Contains("[100, 116]") &&
                       Catch::Contains("past the end of the data buffer") && Catch::Contains("16 bytes"));
    }
    SECTION("truncated data") {
        std::string good = st_bytes(R"({"a": {)" + kF32x4 + R"(, "data_offsets": [0, 16]}, "b": {)" + kF32x4 +
                                        R"(, "data_offsets": [16, 32]}})",
                                    f32_bytes({1, 2, 3, 4, 5, 6, 7, 8}));
        CHECK_THAT(open_error(good.substr(0, good.size() - 10)),
                   Catch::Contains("'b'") && Catch::Contains("past the end") && Catch::Contains("truncated"));
    }
    SECTION("overlapping tensors") {
        CHECK_THAT(open_error(st_bytes(R"({"a": {)" + kF32x4 + R"(, "data_offsets": [0, 16]}, "b": {)" +
                                           kF32x4 + R"(, "data_offsets": [8, 24]}})",
                                       std::string(24, 0))),
                   Catch::Contains("'a'") && Catch::Contains("'b'") && Catch::Contains("overlap"));
    }
    SECTION("malformed offsets") {
        CHECK_THAT(open_error(st_bytes(R"({"w": {)" + kF32x4 + R"(, "data_offsets": [0]}})", std::string(16, 0))),
                   Catch::Contains("data_offsets"));
        CHECK_THAT(open_error(st_bytes(R"({"w": {)" + kF32x4 + R"(, "data_offsets": [-16, 0]}})",
                                       std::string(16, 0))),
                   Catch::Contains("data_offsets") && Catch::Contains("non-negative"));
    }
    SECTION("empty tensors may share an offset; tensors may touch") {
        TempDir dir;
        write_file(dir.file("ok.safetensors"),
                   st_bytes(R"({"a": {)" + kF32x4 + R"(, "data_offsets": [0, 16]}, "e": {"dtype": "F16", )"
                            R"("shape": [0], "data_offsets": [16, 16]}, "f": {"dtype": "F32", "shape": [2, 0], )"
                            R"("data_offsets": [16, 16]}, "b": {)" + kF32x4 + R"(, "data_offsets": [16, 32]}})",
                            f32_bytes({1, 2, 3, 4, 5, 6, 7, 8})));
        SafetensorsFile file(dir.file("ok.safetensors"));
        REQUIRE(file.tensors().size() == 4);
        std::vector<float> b(4);
        file.read_f32(*file.find("b"), b.data());
        CHECK(b == std::vector<float>{5, 6, 7, 8});
    }
}

// ---------------------------------------------------------------- checkpoint directories

namespace {

// A valid one-tensor shard.
std::string small_shard(const std::string& name) {
    return st_bytes("{\"" + name + "\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}}",
                    f32_bytes({1.5f, -2.0f}));
}

void write_index(const TempDir& dir, const std::string& weight_map) {
    write_file(dir.file("model.safetensors.index.json"),
               R"({"metadata": {"total_size": 8}, "weight_map": )" + weight_map + "}");
}

std::string checkpoint_error(const std::string& path, const std::string& expected_file) {
    try {
        SafetensorsCheckpoint ckpt(path);
    } catch (const FormatError& e) {
        CHECK(e.file() == expected_file);
        return e.problem();
    }
    FAIL("expected a FormatError");
    return {};
}

}  // namespace

TEST_CASE("safetensors checkpoint errors: shard names may not leave the directory", "[safetensors]") {
    TempDir parent;
    fs::create_directory(parent.file("model"));
    write_file(parent.file("x.safetensors"), small_shard("w"));  // a real file outside the model
    const std::string dir = parent.file("model");
    const std::string index = dir + "/model.safetensors.index.json";
    auto set_index = [&](const std::string& shard) {
        write_file(index, R"({"weight_map": {"w": ")" + shard + R"("}})");
    };
    set_index("../x.safetensors");
    CHECK_THAT(checkpoint_error(dir, index),
               Catch::Contains("'w'") && Catch::Contains("../x.safetensors") &&
                   Catch::Contains("leaves the model directory"));
    set_index(parent.file("x.safetensors"));
    CHECK_THAT(checkpoint_error(dir, index), Catch::Contains("absolute path"));
    set_index("sub/x.safetensors");
    CHECK_THAT(checkpoint_error(dir, index), Catch::Contains("path separator"));
    set_index("..");
    CHECK_THAT(checkpoint_error(dir, index), Catch::Contains("leaves the model directory"));
    set_index("");
    CHECK_THAT(checkpoint_error(dir, index), Catch::Contains("empty"));
}

TEST_CASE("safetensors checkpoint errors: index and shards", "[safetensors]") {
    TempDir dir;
    const std::string index = dir.file("model.safetensors.index.json");
    write_file(dir.file("model-1.safetensors"), small_shard("a"));

    SECTION("missing shard") {
        write_index(dir, R"({"a": "model-1.safetensors", "b": "model-2.safetensors"})");
        CHECK_THAT(checkpoint_error(dir.path(), index),
                   Catch::Contains("model-2.safetensors") && Catch::Contains("does not exist") &&
                       Catch::Contains("b"));
    }
    SECTION("tensor listed in the index but missing from its shard") {
        write_index(dir, R"({"a": "model-1.safetensors", "ghost": "model-1.safetensors"})");
        CHECK_THAT(checkpoint_error(dir.path(), dir.file("model-1.safetensors")),
                   Catch::Contains("'ghost'") && Catch::Contains("does not contain"));
    }
    SECTION("index is not JSON / has no weight_map / maps to a non-string") {
        write_file(index, "{\"weight_map\": ");
        CHECK_THAT(checkpoint_error(dir.path(), index), Catch::Contains("not valid JSON"));
        write_file(index, R"({"metadata": {}})");
        CHECK_THAT(checkpoint_error(dir.path(), index), Catch::Contains("weight_map"));
        write_index(dir, R"({"a": 7})");
        CHECK_THAT(checkpoint_error(dir.path(), index), Catch::Contains("'a'") && Catch::Contains("number"));
        write_index(dir, "{}");
        CHECK_THAT(checkpoint_error(dir.path(), index), Catch::Contains("lists no tensors"));
    }
    SECTION("a bad shard is reported under its own name") {
        write_file(dir.file("model-2.safetensors"), le64(999) + "{}");
        write_index(dir, R"({"a": "model-1.safetensors", "b": "model-2.safetensors"})");
        CHECK_THAT(checkpoint_error(dir.path(), dir.file("model-2.safetensors")),
                   Catch::Contains("past the end of the file"));
    }
    SECTION("shards without an index") {
        CHECK_THAT(checkpoint_error(dir.path(), dir.path()),
                   Catch::Contains("model-1.safetensors") && Catch::Contains("index"));
    }
}

TEST_CASE("safetensors checkpoint errors: pickle checkpoints are refused, never read", "[safetensors]") {
    TempDir dir;
    // Not even a valid pickle: the point is it is never opened for unpickling.
    write_file(dir.file("pytorch_model.bin"), std::string("PK\x03\x04", 4) + "not really a zip");
    write_file(dir.file("config.json"), "{}");
    auto problem = checkpoint_error(dir.path(), dir.path());
    CHECK_THAT(problem, Catch::Contains("pytorch_model.bin") && Catch::Contains("pickle") &&
                            Catch::Contains("safety") && Catch::Contains("save_file") &&
                            Catch::Contains("safe_serialization=True"));
    CHECK_THAT(checkpoint_error(dir.file("pytorch_model.bin"), dir.file("pytorch_model.bin")),
               Catch::Contains("refuses PyTorch pickle"));

    TempDir pt_dir;
    write_file(pt_dir.file("consolidated.00.pth"), "x");
    CHECK_THAT(checkpoint_error(pt_dir.path(), pt_dir.path()), Catch::Contains("consolidated.00.pth"));
    CHECK_THAT(checkpoint_error(pt_dir.file("consolidated.00.pth"), pt_dir.file("consolidated.00.pth")),
               Catch::Contains("pickle"));
}

TEST_CASE("safetensors checkpoint errors: no weights at all", "[safetensors]") {
    TempDir dir;
    write_file(dir.file("config.json"), "{}");
    CHECK_THAT(checkpoint_error(dir.path(), dir.path()),
               Catch::Contains("no model weights found") && Catch::Contains("model.safetensors"));
    CHECK_THROWS_AS(SafetensorsCheckpoint(dir.file("nonexistent")), IoError);
}
