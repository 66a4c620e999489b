// Malformed GGUF files: each test builds one defect and checks that opening (and reading every
// tensor) throws a FormatError naming the file and the problem.
#include <catch2/catch.hpp>

#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "headscope/error.hpp"
#include "headscope/formats/gguf_file.hpp"
#include "support/test_support.hpp"
#include "unit/test_gguf_builder.hpp"
#include "unit/test_gguf_matchers.hpp"

using namespace headscope;
using namespace headscope::test::gguf;
using test::format_matchers::format_error;

namespace {
void open_and_read_all(const std::string& path) {
    GgufFile f(path);
    for (const auto& t : f.tensors()) {
        std::vector<float> buf(static_cast<size_t>(t.numel()));
        f.read_f32(t, buf.data());
    }
}

std::string write(const test::TempDir& tmp, const std::string& bytes, const std::string& name = "bad.gguf") {
    const std::string path = tmp.file(name);
    test::write_file(path, bytes);
    return path;
}

// A valid two-tensor file to start from.
GgufBuilder small(uint32_t version = 3) {
    GgufBuilder b(version);
    b.kv_string("general.architecture", "llama");
    b.f32_tensor("a", {4, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
    b.f32_tensor("b", {3}, {9, 10, 11});
    return b;
}
}  // namespace

TEST_CASE("GGUF errors: magic and version", "[gguf][errors]") {
    test::TempDir tmp;
    SECTION("valid baseline opens") { CHECK_NOTHROW(open_and_read_all(write(tmp, small().build()))); }
    SECTION("bad magic") {
        GgufBuilder b = small();
        b.magic = "GGUX";
        const auto p = write(tmp, b.build());
        CHECK_THROWS_MATCHES(open_and_read_all(p), FormatError,
                             format_error(p, {"not a GGUF file", "47 47 55 58", "expected \"GGUF\""}));
    }
    SECTION("legacy GGJT file") {
        GgufBuilder b = small();
        b.magic = "tjgg";
        const auto p = write(tmp, b.build());
        CHECK_THROWS_MATCHES(open_and_read_all(p), FormatError, format_error(p, {"pre-GGUF", "convert"}));
    }
    SECTION("empty and tiny files") {
        for (const std::string bytes : {std::string(), std::string("GG")}) {
            const auto p = write(tmp, bytes);
            CHECK_THROWS_MATCHES(open_and_read_all(p), FormatError, format_error(p, {"too short", "magic"}));
        }
    }
    SECTION("unsupported versions") {
        for (uint32_t v : {0u, 4u, 0xFFFFFFFFu}) {
            GgufBuilder b = small();
            b.version = v;
            const auto p = write(tmp, b.build());
            CHECK_THROWS_MATCHES(
                open_and_read_all(p), FormatError,
                format_error(p, {"unsupported GGUF version " + std::to_string(v), "1, 2 and 3"}));
        }
    }
    SECTION("big-endian file") {
        GgufBuilder b = small();
        b.version = 0x03000000u;
        const auto p = write(tmp, b.build());
        CHECK_THROWS_MATCHES(open_and_read_all(p), FormatError, format_error(p, {"big-endian"}));
    }
    SECTION("missing file and directory are I/O errors naming the path") {
        const auto missing = tmp.file("nope.gguf");
        CHECK_THROWS_AS(GgufFile(missing), IoError);
        CHECK_THROWS_WITH(GgufFile(missing), Catch::Contains(missing) && Catch::Contains("cannot open"));
        CHECK_THROWS_WITH(GgufFile(tmp.path()), Catch::Contains("not a regular file"));
    }
}

TEST_CASE("GGUF errors: counts and lengths larger than the file", "[gguf][errors]") {
    test::TempDir tmp;
    SECTION("huge tensor count") {
        for (uint32_t version : {1u, 3u}) {
            GgufBuilder b = small(version);
            b.tensor_count = version == 1 ? 0xFFFFFFFFull : (uint64_t{1} << 60);
            const auto p = write(tmp, b.build());
            CHECK_THROWS_MATCHES(
                open_and_read_all(p), FormatError,
                format_error(
                    p, {"header claims " + std::to_string(*b.tensor_count) + " tensors", "cannot fit"}));
        }
    }
    SECTION("huge metadata count") {
        GgufBuilder b = small();
        b.kv_count = std::numeric_limits<uint64_t>::max();
        const auto p = write(tmp, b.build());
        CHECK_THROWS_MATCHES(open_and_read_all(p), FormatError,
                             format_error(p, {"metadata entries", "cannot fit"}));
    }
    SECTION("metadata count one too many") {
        GgufBuilder b;
        b.alignment = 1;  // no padding: the file ends right after the only entry
        b.kv_string("general.architecture", "llama");
        b.kv_count = 2;
        const auto p = write(tmp, b.build());
        CHECK_THROWS_MATCHES(open_and_read_all(p), FormatError,
                             format_error(p, {"truncated file", "metadata key", "[metadata entry 1 of 2]"}));
    }
    SECTION("string length past the end") {
        GgufBuilder b(3);
        b.kv("k", kGgufString, le_u64(uint64_t{1} << 62) + "abc");
        const auto p = write(tmp, b.build());
        CHECK_THROWS_MATCHES(open_and_read_all(p), FormatError,
                             format_error(p, {"claims a length of 4611686018427387904 bytes", "key 'k'"}));
    }
    SECTION("key length past the end (v1, 32-bit lengths)") {
        GgufBuilder b(1);
        b.alignment = 1;
        b.kv_count = 1;
        const auto p = write(tmp, b.build() + le_u32(0x7FFFFFFF) + "key" + std::string(16, 'x'));
        CHECK_THROWS_MATCHES(open_and_read_all(p), FormatError,
                             format_error(p, {"metadata key", "claims a length"}));
    }
    SECTION("array length past the end") {
        GgufBuilder b(2);
        b.kv("arr", kGgufArray, le_u32(kGgufU32) + le_u64(uint64_t{1} << 61) + "xxxx");
        const auto p = write(tmp, b.build());
        CHECK_THROWS_MATCHES(open_and_read_all(p), FormatError,
                             format_error(p, {"claims 2305843009213693952 elements", "key 'arr'"}));
    }
    SECTION("string array whose strings run past the end") {
        GgufBuilder b(3);
        b.alignment = 1;
        b.kv("strs", kGgufArray, le_u32(kGgufString) + le_u64(2) + b.str("ok") + b.count(100) + "x");
        const auto p = write(tmp, b.build());
        CHECK_THROWS_MATCHES(
            open_and_read_all(p), FormatError,
            format_error(p, {"string array element", "claims a length of 100 bytes", "key 'strs'"}));
    }
}

TEST_CASE("GGUF errors: metadata values", "[gguf][errors]") {
    test::TempDir tmp;
    auto expect = [&](GgufBuilder& b, std::vector<std::string> phrases) {
        const auto p = write(tmp, b.build());
        CHECK_THROWS_MATCHES(open_and_read_all(p), FormatError, format_error(p, std::move(phrases)));
    };
    SECTION("unknown value type") {
        GgufBuilder b;
        b.kv("weird", 13, "\0\0\0\0");
        expect(b, {"unknown value type 13", "key 'weird'"});
    }
    SECTION("unknown array element type") {
        GgufBuilder b;
        b.kv("arr", kGgufArray, le_u32(77) + le_u64(0));
        expect(b, {"unknown element type 77", "key 'arr'"});
    }
    SECTION("bool that is neither 0 nor 1") {
        GgufBuilder b;
        b.kv("flag", kGgufBool, "\x02");
        expect(b, {"bool value", "is 2, expected 0 or 1", "key 'flag'"});
    }
    SECTION("uint64 above int64 range") {
        GgufBuilder b;
        b.kv_u64("big", std::numeric_limits<uint64_t>::max());
        expect(b, {"uint64 value 18446744073709551615", "key 'big'"});
    }
    SECTION("duplicate key") {
        GgufBuilder b;
        b.kv_u32("dup", 1).kv_u32("dup", 2);
        expect(b, {"duplicate metadata key", "key 'dup'"});
    }
    SECTION("empty key") {
        GgufBuilder b;
        b.kv_u32("", 1);
        expect(b, {"empty metadata key"});
    }
    SECTION("arrays nested too deep") {
        GgufBuilder b;
        std::string value = le_u32(kGgufU8) + le_u64(0);
        for (int i = 0; i < 12; ++i) value = le_u32(kGgufArray) + le_u64(1) + value;
        b.kv("deep", kGgufArray, value);
        expect(b, {"nested more than", "key 'deep'"});
    }
    SECTION("general.alignment not a power of two") {
        for (uint32_t a : {0u, 3u, 48u}) {
            GgufBuilder b = small();
            b.kv_u32("general.alignment", a);
            expect(b, {"general.alignment", "is " + std::to_string(a), "power of two"});
        }
    }
    SECTION("general.alignment of the wrong type") {
        GgufBuilder b = small();
        b.kv_string("general.alignment", "32");
        expect(b, {"general.alignment", "is a string, expected an integer"});
    }
}

TEST_CASE("GGUF errors: tensor directory", "[gguf][errors]") {
    test::TempDir tmp;
    auto expect = [&](const GgufBuilder& b, std::vector<std::string> phrases) {
        const auto p = write(tmp, b.build());
        CHECK_THROWS_MATCHES(open_and_read_all(p), FormatError, format_error(p, std::move(phrases)));
    };
    const std::string block(34, '\0');
    SECTION("unsupported ggml types are named") {
        GgufBuilder b;
        b.tensor("blk.0.attn_q.weight", {32}, kGgmlQ4_1, std::string(20, '\0'));
        expect(b, {"tensor 'blk.0.attn_q.weight'",
                   "tensor type q4_1 (3) is not supported; supported: f32, f16, bf16, q8_0, q4_0, q4_K, q6_K"});
        GgufBuilder k;
        k.tensor("w", {256}, 13, std::string(176, '\0'));
        expect(k, {"tensor 'w'", "q5_K (13) is not supported"});
    }
    SECTION("k-quant rows must hold whole 256-element super-blocks") {
        GgufBuilder b;
        b.tensor("blk.0.ffn_down.weight", {128, 2}, 14, std::string(210, '\0'));
        expect(b, {"tensor 'blk.0.ffn_down.weight'", "q6_K tensor has rows of 128 elements",
                   "256-element block"});
    }
    SECTION("invalid type id") {
        GgufBuilder b;
        b.tensor("w", {32}, 999, block);
        expect(b, {"tensor 'w'", "unknown tensor type id 999"});
    }
    SECTION("dimension count") {
        for (int n : {0, 5}) {
            GgufBuilder b;
            b.tensor("w", std::vector<uint64_t>(static_cast<size_t>(n), 1), kGgmlF32, std::string(4, '\0'));
            expect(b, {"tensor 'w'", "has " + std::to_string(n) + " dimensions", "1 to 4"});
        }
    }
    SECTION("zero-sized dimension") {
        GgufBuilder b;
        b.tensor("w", {4, 0}, kGgmlF32, "");
        expect(b, {"tensor 'w'", "zero-sized dimension"});
    }
    SECTION("element count overflow") {
        GgufBuilder b;
        b.tensor("w", {uint64_t{1} << 32, uint64_t{1} << 32}, kGgmlF32, "");
        expect(b, {"tensor 'w'", "overflow"});
        GgufBuilder c;
        c.tensor("w", {uint64_t{1} << 62, 2}, kGgmlF32, "");
        expect(c, {"tensor 'w'", "overflow"});
    }
    SECTION("quantised rows must be whole blocks (shape/type mismatch)") {
        GgufBuilder b;
        b.tensor("w", {48, 2}, kGgmlQ8_0, std::string(3 * 34, '\0'));
        expect(b, {"tensor 'w'", "q8_0 tensor has rows of 48 elements", "32-element block"});
    }
    SECTION("misaligned offset") {
        GgufBuilder b;
        b.tensor("w", {1}, kGgmlF32, "abcd", 4);
        expect(b, {"tensor 'w'", "data offset 4", "not a multiple of the alignment 32"});
    }
    SECTION("offset past the end of the file") {
        GgufBuilder b = small();
        b.tensor("far", {8}, kGgmlF32, "", uint64_t{1} << 20);
        expect(b, {"tensor 'far'", "extends past the end of the file"});
    }
    SECTION("offset that overflows") {
        GgufBuilder b = small();
        b.tensor("far", {8}, kGgmlF32, "", std::numeric_limits<uint64_t>::max() - 31);
        expect(b, {"tensor 'far'", "extends past the end of the file"});
    }
    SECTION("truncated tensor data") {
        const std::string bytes = small().build();
        const auto p = write(tmp, bytes.substr(0, bytes.size() - 1));
        CHECK_THROWS_MATCHES(
            open_and_read_all(p), FormatError,
            format_error(p, {"tensor 'b'", "extends past the end of the file", "truncated"}));
    }
    SECTION("overlapping tensors") {
        GgufBuilder b;
        b.tensor("x", {16}, kGgmlF32, std::string(64, '\1'), 0);
        b.tensor("y", {8}, kGgmlF32, "", 32);
        expect(b, {"tensors 'x'", "'y'", "overlap"});
    }
    SECTION("duplicate and empty names") {
        GgufBuilder b;
        b.f32_tensor("same", {1}, {1.f}).f32_tensor("same", {1}, {2.f});
        expect(b, {"duplicate tensor name 'same'"});
        GgufBuilder e;
        e.f32_tensor("", {1}, {1.f});
        expect(e, {"empty tensor name"});
    }
}

TEST_CASE("GGUF read_f32 refuses a TensorInfo that is not the file's", "[gguf][errors]") {
    test::TempDir tmp;
    GgufFile f(write(tmp, small().build(), "ok.gguf"));
    std::vector<float> buf(64);
    TensorInfo copy = *f.find("a");
    f.read_f32(copy, buf.data());  // an exact copy is fine
    CHECK(buf[0] == 1.f);
    CHECK(buf[7] == 8.f);
    TensorInfo forged = copy;
    forged.nbytes = 1 << 20;
    CHECK_THROWS_AS(f.read_f32(forged, buf.data()), UsageError);
    forged = copy;
    forged.name = "missing";
    CHECK_THROWS_WITH(f.read_f32(forged, buf.data()), Catch::Contains("no tensor named 'missing'"));
    CHECK_THROWS_AS(f.read_f32(*f.find("a"), nullptr), UsageError);
}

TEST_CASE("GGUF errors: llama model config", "[gguf][errors]") {
    test::TempDir tmp;
    SECTION("the tiny llama is valid") {
        GgufFile f(write(tmp, tiny_llama(3).build()));
        ModelConfig c = gguf_model_config(f);
        CHECK(c.d_model == 8);
        CHECK(c.d_head == 4);
        CHECK(c.n_kv_heads == 1);
        CHECK(c.d_vocab == 4);
        CHECK(c.tied_embeddings);
        CHECK(c.bos_token_id == -1);  // no bos key: none
    }
    SECTION("each required key, missing") {
        for (const std::string key :
             {"general.architecture", "llama.context_length", "llama.embedding_length", "llama.block_count",
              "llama.feed_forward_length", "llama.attention.head_count",
              "llama.attention.layer_norm_rms_epsilon"}) {
            GgufFile f(write(tmp, tiny_llama(2, {key}).build()));
            CHECK_THROWS_MATCHES(gguf_model_config(f), FormatError,
                                 format_error(f.path(), {"missing required metadata key '" + key + "'"}));
        }
    }
    SECTION("head_count_kv defaults to head_count") {
        GgufFile f(write(tmp, tiny_llama(2, {"llama.attention.head_count_kv"}).build()));
        CHECK(gguf_model_config(f).n_kv_heads == 2);
    }
    SECTION("other architectures are refused with the supported list") {
        GgufBuilder b = tiny_llama(3, {"general.architecture"});
        b.kv_string("general.architecture", "gpt2");
        GgufFile f(write(tmp, b.build()));
        CHECK_THROWS_AS(gguf_model_config(f), ConfigError);
        CHECK_THROWS_WITH(gguf_model_config(f), Catch::Contains(f.path()) && Catch::Contains("'gpt2'") &&
                                                    Catch::Contains("supported: llama"));
    }
    SECTION("a key of the wrong type") {
        GgufBuilder b = tiny_llama(3, {"llama.block_count"});
        b.kv_string("llama.block_count", "one");
        GgufFile f(write(tmp, b.build()));
        CHECK_THROWS_MATCHES(
            gguf_model_config(f), FormatError,
            format_error(f.path(), {"'llama.block_count' is a string, expected an integer"}));
    }
    SECTION("a non-positive size") {
        GgufBuilder b = tiny_llama(3, {"llama.attention.head_count"});
        b.kv_i32("llama.attention.head_count", -2);
        GgufFile f(write(tmp, b.build()));
        CHECK_THROWS_MATCHES(
            gguf_model_config(f), FormatError,
            format_error(f.path(), {"'llama.attention.head_count' is -2", "positive integer"}));
    }
    SECTION("token_embd shape disagrees with embedding_length") {
        GgufBuilder b = tiny_llama(3, {"llama.embedding_length"});
        b.kv_u32("llama.embedding_length", 16);
        GgufFile f(write(tmp, b.build()));
        CHECK_THROWS_MATCHES(
            gguf_model_config(f), FormatError,
            format_error(f.path(), {"'token_embd.weight' has shape [4, 8]", "expected [n_vocab, 16]"}));
    }
    SECTION("heads that do not divide the model width") {
        GgufBuilder b = tiny_llama(3, {"llama.attention.head_count"});
        b.kv_u32("llama.attention.head_count", 3);
        GgufFile f(write(tmp, b.build()));
        CHECK_THROWS_AS(gguf_model_config(f), ConfigError);
        CHECK_THROWS_WITH(gguf_model_config(f),
                          Catch::Contains(f.path()) && Catch::Contains("not divisible"));
    }
    SECTION("kv heads that do not divide the heads (ModelConfig::validate)") {
        GgufBuilder b = tiny_llama(3, {"llama.attention.head_count_kv"});
        b.kv_u32("llama.attention.head_count_kv", 3);
        GgufFile f(write(tmp, b.build()));
        CHECK_THROWS_AS(gguf_model_config(f), ConfigError);
        CHECK_THROWS_WITH(gguf_model_config(f),
                          Catch::Contains(f.path()) && Catch::Contains("n_kv_heads (3)"));
    }
}

TEST_CASE("GGUF errors: embedded vocabulary", "[gguf][errors]") {
    test::TempDir tmp;
    auto open = [&](const GgufBuilder& b) { return std::make_unique<GgufFile>(write(tmp, b.build())); };
    SECTION("the tiny llama's vocabulary is valid") {
        auto f = open(tiny_llama(1));
        Vocabulary v = gguf_vocabulary(*f);
        CHECK(v.pieces.size() == 4);
        CHECK(v.bos_id == 1);
        CHECK(v.kinds[3] == TokenKind::normal);
        CHECK(v.add_dummy_prefix);
    }
    SECTION("missing model, tokens or scores") {
        for (const std::string key :
             {"tokenizer.ggml.model", "tokenizer.ggml.tokens", "tokenizer.ggml.scores"}) {
            auto f = open(tiny_llama(3, {key}));
            CHECK_THROWS_MATCHES(gguf_vocabulary(*f), FormatError,
                                 format_error(f->path(), {"missing required metadata key '" + key + "'"}));
        }
    }
    SECTION("a tokenizer other than SentencePiece") {
        GgufBuilder b = tiny_llama(3, {"tokenizer.ggml.model"});
        b.kv_string("tokenizer.ggml.model", "gpt2");
        auto f = open(b);
        CHECK_THROWS_MATCHES(gguf_vocabulary(*f), FormatError,
                             format_error(f->path(), {"'gpt2'", "supported: llama"}));
    }
    SECTION("scores and token types of the wrong length") {
        GgufBuilder b = tiny_llama(3, {"tokenizer.ggml.scores"});
        b.kv_f32s("tokenizer.ggml.scores", {0.f, 0.f, 0.f});
        auto f = open(b);
        CHECK_THROWS_MATCHES(
            gguf_vocabulary(*f), FormatError,
            format_error(f->path(), {"tokenizer.ggml.scores has 3 entries", "tokenizer.ggml.tokens has 4"}));
        GgufBuilder t = tiny_llama(3, {"tokenizer.ggml.token_type"});
        t.kv_i32s("tokenizer.ggml.token_type", {1, 1, 1, 1, 1});
        auto g = open(t);
        CHECK_THROWS_MATCHES(gguf_vocabulary(*g), FormatError,
                             format_error(g->path(), {"tokenizer.ggml.token_type has 5 entries"}));
    }
    SECTION("an invalid token type") {
        GgufBuilder b = tiny_llama(3, {"tokenizer.ggml.token_type"});
        b.kv_i32s("tokenizer.ggml.token_type", {2, 3, 3, 9});
        auto f = open(b);
        CHECK_THROWS_MATCHES(gguf_vocabulary(*f), FormatError,
                             format_error(f->path(), {"tokenizer.ggml.token_type[3] is 9"}));
    }
    SECTION("special token ids outside the vocabulary") {
        GgufBuilder b = tiny_llama(3);
        b.kv_u32("tokenizer.ggml.eos_token_id", 4);
        auto f = open(b);
        CHECK_THROWS_MATCHES(
            gguf_vocabulary(*f), FormatError,
            format_error(f->path(), {"tokenizer.ggml.eos_token_id is 4", "vocabulary of 4 tokens"}));
    }
    SECTION("add_space_prefix of the wrong type") {
        GgufBuilder b = tiny_llama(3);
        b.kv_u32("tokenizer.ggml.add_space_prefix", 1);
        auto f = open(b);
        CHECK_THROWS_MATCHES(gguf_vocabulary(*f), FormatError,
                             format_error(f->path(), {"add_space_prefix' is an integer, expected a bool"}));
    }
}
