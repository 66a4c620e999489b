// GGUF v1/v2/v3 files written by tests/tools/gguf_writer.py (numpy, from the GGUF spec), with
// f32, f16, bf16, q8_0, q4_0, q4_K and q6_K tensors; their values are compared with numpy's own
// dequantisation of the bytes it wrote.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "headscope/error.hpp"
#include "headscope/formats/gguf_file.hpp"
#include "support/test_support.hpp"

using namespace headscope;

namespace {
struct Expected {
    std::string name, type;
    std::vector<int64_t> shape;
};

struct WrittenFile {
    std::string gguf;
    std::string dir;
    std::vector<Expected> tensors;
};

WrittenFile write_gguf(const test::TempDir& tmp, int version, int alignment, int seed) {
    auto r = test::run_command({test::python(), test::source_dir() + "/tests/tools/gguf_writer.py", "--out",
                                tmp.path(), "--version", std::to_string(version), "--alignment",
                                std::to_string(alignment), "--seed", std::to_string(seed)});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    WrittenFile w{tmp.file("model.gguf"), tmp.path(), {}};
    std::istringstream manifest(test::read_file(tmp.file("manifest.tsv")));
    std::string line;
    while (std::getline(manifest, line)) {
        std::istringstream fields(line);
        Expected e;
        std::string shape;
        std::getline(fields, e.name, '\t');
        std::getline(fields, e.type, '\t');
        std::getline(fields, shape, '\t');
        std::istringstream dims(shape);
        for (std::string d; std::getline(dims, d, ',');) e.shape.push_back(std::stoll(d));
        w.tensors.push_back(e);
    }
    REQUIRE(w.tensors.size() == 32);
    return w;
}

std::vector<float> expected_values(const WrittenFile& w, const std::string& name) {
    const std::string bytes = test::read_file(w.dir + "/expected/" + name + ".f32");
    std::vector<float> v(bytes.size() / 4);
    std::memcpy(v.data(), bytes.data(), v.size() * 4);
    return v;
}

// NaN matches NaN, infinities match exactly, finite values to 1e-6 (relative above 1).
bool close(float actual, float expected) {
    if (std::isnan(expected)) return std::isnan(actual);
    if (std::isinf(expected)) return actual == expected;
    return std::fabs(actual - expected) <= 1e-6f * std::max(1.0f, std::fabs(expected));
}
}  // namespace

TEST_CASE("GGUF written by numpy: every tensor dequantises to numpy's values", "[gguf]") {
    const auto [version, alignment] = GENERATE(table<int, int>({{1, 32}, {2, 64}, {3, 8}, {3, 1}, {2, 16}}));
    INFO("GGUF v" << version << ", alignment " << alignment);
    test::TempDir tmp;
    WrittenFile w = write_gguf(tmp, version, alignment, 100 + version * 10 + alignment);
    GgufFile f(w.gguf);
    CHECK(f.version() == static_cast<uint32_t>(version));
    REQUIRE(f.tensors().size() == w.tensors.size());
    for (const auto& e : w.tensors) {
        INFO("tensor " << e.name);
        const TensorInfo* t = f.find(e.name);
        REQUIRE(t);
        CHECK(t->shape == e.shape);
        CHECK(std::string(to_string(t->type)) == e.type);
        CHECK(t->offset % static_cast<uint64_t>(alignment) == 0);
        std::vector<float> got(static_cast<size_t>(t->numel()));
        f.read_f32(*t, got.data());
        const std::vector<float> want = expected_values(w, e.name);
        REQUIRE(want.size() == got.size());
        size_t bad = 0;
        for (size_t i = 0; i < got.size(); ++i)
            if (!close(got[i], want[i])) ++bad;
        CHECK(bad == 0);
    }
}

TEST_CASE("GGUF written by numpy: every metadata value type", "[gguf]") {
    const int version = GENERATE(1, 2, 3);
    INFO("GGUF v" << version);
    test::TempDir tmp;
    GgufFile f(write_gguf(tmp, version, 32, 7).gguf);
    CHECK(f.get_int("test.u8") == 200);
    CHECK(f.get_int("test.i8") == -100);
    CHECK(f.get_int("test.u16") == 60000);
    CHECK(f.get_int("test.i16") == -30000);
    CHECK(f.get_int("test.u32") == 4000000000LL);
    CHECK(f.get_int("test.i32") == -2000000000LL);
    CHECK(f.get_float("test.f32") == 0.25);
    CHECK(f.get_float("test.u8") == 200.0);  // integers are accepted where a number is asked for
    CHECK(std::get<bool>(f.metadata().at("test.bool").value) == true);
    CHECK(f.get_string("test.string") == std::string("h\xC3\xA9llo \xE2\x96\x81w\xC3\xB6rld"));
    CHECK(f.get_string("test.empty_string") == std::string());
    CHECK(f.get_ints("test.arr_i16") == std::vector<int64_t>{-3, 0, 7});
    CHECK(f.get_floats("test.arr_i16") == std::vector<double>{-3, 0, 7});
    const auto& bools = std::get<GgufValue::Array>(f.metadata().at("test.arr_bool").value);
    CHECK(std::get<std::vector<bool>>(bools) == std::vector<bool>{true, false, true});
    CHECK(f.get_ints("test.arr_empty") == std::vector<int64_t>{});
    // Arrays of arrays are walked but not kept; parsing carries on after them.
    CHECK(f.metadata().count("test.nested") == 0);
    CHECK(f.get_string("test.after_nested") == std::string("still parsed"));
    CHECK_THROWS_WITH(f.get_strings("test.arr_i16"), Catch::Contains("test.arr_i16") &&
                                                         Catch::Contains("an array of integers") &&
                                                         Catch::Contains("expected an array of strings"));
    if (version >= 2) {
        CHECK(f.get_int("test.u64") == INT64_MAX);
        CHECK(f.get_int("test.i64") == -(int64_t{1} << 62));
        CHECK(f.get_float("test.f64") == 0.1);
        CHECK(f.get_floats("test.arr_f64") == std::vector<double>{1.5, -2.25});
    }
}

TEST_CASE("GGUF written by numpy: llama config and vocabulary", "[gguf]") {
    const auto [version, alignment] = GENERATE(table<int, int>({{1, 32}, {2, 64}, {3, 16}}));
    INFO("GGUF v" << version << ", alignment " << alignment);
    test::TempDir tmp;
    GgufFile f(write_gguf(tmp, version, alignment, 11).gguf);
    if (alignment != 32) CHECK(f.get_int("general.alignment") == alignment);

    ModelConfig c = gguf_model_config(f);
    CHECK(c.name == "headscope-test");
    CHECK(c.d_model == 64);
    CHECK(c.n_layers == 2);
    CHECK(c.n_heads == 4);
    CHECK(c.n_kv_heads == 2);
    CHECK(c.d_head == 16);
    CHECK(c.d_mlp == 96);
    CHECK(c.d_vocab == 48);
    CHECK(c.n_ctx == 128);
    CHECK(c.norm_eps == Approx(1e-6).epsilon(1e-6));
    CHECK(c.rope_theta == 500000.0);
    CHECK(c.rotary_dim == 16);  // no rope.dimension_count: the whole head
    CHECK(c.rotary_style == RotaryStyle::interleaved);
    CHECK(c.tied_embeddings);  // no output.weight
    CHECK(c.bos_token_id == 1);
    CHECK(c.eos_token_id == 2);

    Vocabulary v = gguf_vocabulary(f);
    REQUIRE(v.pieces.size() == 48);
    CHECK(v.pieces[8] == "\xE2\x96\x81the");
    CHECK(v.pieces[16] == "\xE2\x96\x81\xE6\x97\xA5\xE6\x9C\xAC");
    CHECK(v.scores[8] == 0.0f);
    CHECK(v.scores[9] == -1.0f);
    CHECK(v.kinds[0] == TokenKind::unknown);
    CHECK(v.kinds[1] == TokenKind::control);
    CHECK(v.kinds[3] == TokenKind::byte);
    CHECK(v.kinds[8] == TokenKind::normal);
    CHECK_FALSE(v.add_dummy_prefix);  // tokenizer.ggml.add_space_prefix = false
}
