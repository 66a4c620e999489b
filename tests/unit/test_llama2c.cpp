// llama2.c checkpoints: the real stories260K.bin, synthetic files whose every float holds its own
// index (so each tensor's position in the file is checked against run.c's order), and malformed
// headers and sizes.
#include <catch2/catch.hpp>

#include <climits>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "headscope/error.hpp"
#include "headscope/formats/llama2c_file.hpp"
#include "support/test_support.hpp"
#include "unit/test_gguf_builder.hpp"
#include "unit/test_gguf_matchers.hpp"

using namespace headscope;
using namespace headscope::test::gguf;
using test::format_matchers::format_error;

namespace {
struct Header {
    int32_t dim, hidden, layers, heads, kv_heads, vocab, seq_len;  // vocab < 0: untied classifier
};

std::string header_bytes(const Header& h) {
    std::string out;
    for (int32_t v : {h.dim, h.hidden, h.layers, h.heads, h.kv_heads, h.vocab, h.seq_len})
        out += le_u32(static_cast<uint32_t>(v));
    return out;
}

// The float arrays run.c reads, in file order: (name, element count). Written here from
// run.c's memory_map_weights, independently of the reader.
struct Block {
    std::string name;  // empty for the skipped freq_cis arrays
    int64_t count;
};
std::vector<Block> run_c_order(const Header& h) {
    const int64_t dim = h.dim, hidden = h.hidden, vocab = h.vocab < 0 ? -int64_t{h.vocab} : h.vocab;
    const int64_t head = dim / h.heads, kv_dim = int64_t{h.kv_heads} * head;
    std::vector<Block> out{{llama2c_names::tok_embeddings(), vocab * dim}};
    auto per_layer = [&](std::function<std::string(int)> name, int64_t count) {
        for (int l = 0; l < h.layers; ++l) out.push_back({name(l), count});
    };
    per_layer(llama2c_names::attention_norm, dim);
    per_layer(llama2c_names::wq, dim * dim);
    per_layer(llama2c_names::wk, kv_dim * dim);
    per_layer(llama2c_names::wv, kv_dim * dim);
    per_layer(llama2c_names::wo, dim * dim);
    per_layer(llama2c_names::ffn_norm, dim);
    per_layer(llama2c_names::w1, hidden * dim);
    per_layer(llama2c_names::w2, dim * hidden);
    per_layer(llama2c_names::w3, hidden * dim);
    out.push_back({llama2c_names::norm(), dim});
    out.push_back({"", h.seq_len * head / 2});  // freq_cis_real
    out.push_back({"", h.seq_len * head / 2});  // freq_cis_imag
    if (h.vocab < 0) out.push_back({llama2c_names::output(), vocab * dim});
    return out;
}

// A checkpoint whose k-th float (after the header) is k.
std::string synthetic(const Header& h) {
    int64_t total = 0;
    for (const auto& b : run_c_order(h)) total += b.count;
    std::vector<float> values(static_cast<size_t>(total));
    for (size_t k = 0; k < values.size(); ++k) values[k] = static_cast<float>(k);
    return header_bytes(h) + f32_bytes(values);
}

std::string write(const test::TempDir& tmp, const std::string& bytes, const std::string& name = "model.bin") {
    const std::string path = tmp.file(name);
    std::filesystem::remove(path);
    test::write_file(path, bytes);
    return path;
}

std::vector<float> read_all(const Llama2cFile& f, const std::string& name) {
    const TensorInfo* t = f.find(name);
    REQUIRE(t);
    std::vector<float> out(static_cast<size_t>(t->numel()));
    f.read_f32(*t, out.data());
    return out;
}

constexpr Header kSmall{8, 12, 2, 4, 2, 10, 6};
// The header's fields in file order, for tests that vary one at a time.
constexpr int32_t Header::*kFields[7] = {&Header::dim,      &Header::hidden, &Header::layers, &Header::heads,
                                         &Header::kv_heads, &Header::vocab,  &Header::seq_len};
}  // namespace

TEST_CASE("stories260K.bin: header, tensors and config", "[llama2c]") {
    Llama2cFile f(test::stories_bin());
    const Llama2cHeader& h = f.header();
    CHECK(h.dim == 64);
    CHECK(h.hidden_dim == 172);
    CHECK(h.n_layers == 5);
    CHECK(h.n_heads == 8);
    CHECK(h.n_kv_heads == 4);
    CHECK(h.vocab_size == 512);
    CHECK(h.seq_len == 512);
    CHECK(h.shared_classifier);
    CHECK(f.tensors().size() == 1 + 9 * 5 + 1);  // no separate classifier
    CHECK(f.find(llama2c_names::output()) == nullptr);
    CHECK(f.find(llama2c_names::tok_embeddings())->shape == std::vector<int64_t>{512, 64});
    CHECK(f.find(llama2c_names::wq(0))->shape == std::vector<int64_t>{64, 64});
    CHECK(f.find(llama2c_names::wk(4))->shape == std::vector<int64_t>{32, 64});
    CHECK(f.find(llama2c_names::wv(2))->shape == std::vector<int64_t>{32, 64});
    CHECK(f.find(llama2c_names::wo(1))->shape == std::vector<int64_t>{64, 64});
    CHECK(f.find(llama2c_names::w1(3))->shape == std::vector<int64_t>{172, 64});
    CHECK(f.find(llama2c_names::w2(3))->shape == std::vector<int64_t>{64, 172});
    CHECK(f.find(llama2c_names::w3(3))->shape == std::vector<int64_t>{172, 64});
    CHECK(f.find(llama2c_names::attention_norm(0))->name == "layers.0.attention_norm.weight");
    CHECK(f.find(llama2c_names::w1(0))->name == "layers.0.feed_forward.w1.weight");
    // rms_final_weight is followed by the two [512, 4] freq_cis tables, ending the 1056540-byte file.
    const TensorInfo* norm = f.find(llama2c_names::norm());
    CHECK(norm->offset + norm->nbytes + 2 * 512 * 4 * 4 == 1056540);

    ModelConfig c = llama2c_model_config(f);
    CHECK(c.name == "stories260K");
    CHECK(c.d_model == 64);
    CHECK(c.n_layers == 5);
    CHECK(c.n_heads == 8);
    CHECK(c.n_kv_heads == 4);
    CHECK(c.d_head == 8);
    CHECK(c.d_mlp == 172);
    CHECK(c.d_vocab == 512);
    CHECK(c.n_ctx == 512);
    CHECK(c.norm_eps == 1e-5);
    CHECK(c.rope_theta == 10000.0);
    CHECK(c.rotary_dim == 8);
    CHECK(c.rotary_style == RotaryStyle::interleaved);
    CHECK(c.gated_mlp);
    CHECK(c.activation == Activation::silu);
    CHECK(c.tied_embeddings);
    CHECK(c.bos_token_id == 1);
    CHECK(c.eos_token_id == 2);
}

TEST_CASE("llama2.c: every tensor sits where run.c reads it", "[llama2c]") {
    const Header h = GENERATE(Header{8, 12, 2, 4, 2, 10, 6},   // GQA, tied
                              Header{8, 12, 2, 4, 2, -10, 6},  // untied classifier after freq_cis
                              Header{12, 20, 3, 2, 1, -7, 5},  // multi-query, odd vocab/seq
                              Header{16, 8, 1, 4, 4, 3, 9});   // plain multi-head
    INFO("dim " << h.dim << " hidden " << h.hidden << " layers " << h.layers << " heads " << h.heads << " kv "
                << h.kv_heads << " vocab " << h.vocab << " seq " << h.seq_len);
    test::TempDir tmp;
    Llama2cFile f(write(tmp, synthetic(h)));
    CHECK(f.header().shared_classifier == (h.vocab > 0));
    CHECK(f.header().vocab_size == std::abs(h.vocab));
    size_t named = 0;
    int64_t start = 0;
    for (const auto& block : run_c_order(h)) {
        if (!block.name.empty()) {
            INFO(block.name);
            ++named;
            const auto values = read_all(f, block.name);
            REQUIRE(static_cast<int64_t>(values.size()) == block.count);
            int bad = 0;
            for (size_t j = 0; j < values.size(); ++j)
                if (values[j] != static_cast<float>(start + static_cast<int64_t>(j))) ++bad;
            CHECK(bad == 0);
        }
        start += block.count;
    }
    CHECK(f.tensors().size() == named);
    ModelConfig c = llama2c_model_config(f);
    CHECK(c.tied_embeddings == (h.vocab > 0));
    CHECK(c.d_head == h.dim / h.heads);
    CHECK(c.n_kv_heads == h.kv_heads);
}

TEST_CASE("llama2.c errors: truncated and oversized files", "[llama2c][errors]") {
    test::TempDir tmp;
    const std::string bytes = synthetic(kSmall);
    const std::string expected_size = std::to_string(bytes.size());
    for (size_t len = 0; len < bytes.size(); ++len) {
        INFO("prefix of " << len << " bytes");
        const auto p = write(tmp, bytes.substr(0, len));
        if (len < 28)
            CHECK_THROWS_MATCHES(
                Llama2cFile(p), FormatError,
                format_error(p, {"truncated", "28-byte header", "file has " + std::to_string(len)}));
        else
            CHECK_THROWS_MATCHES(
                Llama2cFile(p), FormatError,
                format_error(p, {"truncated: expected " + expected_size + " bytes", "dim=8, hidden_dim=12",
                                 "file has " + std::to_string(len)}));
    }
    const auto p = write(tmp, bytes + "xyzw");
    CHECK_THROWS_MATCHES(Llama2cFile(p), FormatError,
                         format_error(p, {"file has " + std::to_string(bytes.size() + 4) + " bytes",
                                          "has exactly " + expected_size}));
}

TEST_CASE("llama2.c errors: nonsensical headers", "[llama2c][errors]") {
    test::TempDir tmp;
    auto expect = [&](const Header& h, std::vector<std::string> phrases) {
        const auto p = write(tmp, header_bytes(h) + std::string(4096, '\0'));
        CHECK_THROWS_MATCHES(Llama2cFile(p), FormatError, format_error(p, std::move(phrases)));
    };
    SECTION("zero and negative sizes") {
        const char* fields[] = {"dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "", "seq_len"};
        for (int field = 0; field < 7; ++field) {
            if (field == 5) continue;  // vocab_size: its sign means something
            for (int32_t bad : {0, -3}) {
                Header h = kSmall;
                h.*kFields[field] = bad;
                expect(h, {"nonsensical header", std::string(fields[field]) + " is " + std::to_string(bad)});
            }
        }
        Header h = kSmall;
        h.vocab = 0;
        expect(h, {"vocab_size is 0"});
        h.vocab = INT32_MIN;
        expect(h, {"vocab_size is -2147483648"});
    }
    SECTION("heads that do not divide the width") {
        Header h = kSmall;
        h.heads = 3;
        h.kv_heads = 3;
        expect(h, {"dim (8) is not divisible by n_heads (3)"});
    }
    SECTION("kv heads that do not divide the heads") {
        Header h = kSmall;
        h.kv_heads = 3;
        expect(h, {"n_kv_heads (3) does not divide n_heads (4)"});
        h.kv_heads = 8;
        expect(h, {"n_kv_heads (8) does not divide n_heads (4)"});
    }
    SECTION("odd head size") {
        Header h{6, 12, 1, 2, 1, 10, 4};
        expect(h, {"head size dim/n_heads = 3 is odd"});
    }
    SECTION("sizes whose product overflows 64 bits") {
        Header h{1 << 30, INT32_MAX, INT32_MAX, 1, 1, INT32_MAX, INT32_MAX};
        expect(h, {"larger than 2^64"});
    }
    SECTION("a huge but representable size is a truncation") {
        Header h{1 << 20, 1 << 20, 1 << 10, 1 << 10, 1 << 10, 1 << 20, 1 << 20};
        expect(h, {"truncated: expected", "file has 4124 bytes"});
    }
}

TEST_CASE("llama2.c errors: other formats and missing files", "[llama2c][errors]") {
    test::TempDir tmp;
    SECTION("newer export.py versions") {
        const auto p = write(tmp, le_u32(0x616b3432) + le_u32(2) + std::string(256, '\0'));
        CHECK_THROWS_MATCHES(Llama2cFile(p), FormatError,
                             format_error(p, {"export.py version 2", "version-0"}));
    }
    SECTION("a GGUF file") {
        const auto p = write(tmp, tiny_llama(3).build(), "model.gguf");
        CHECK_THROWS_MATCHES(Llama2cFile(p), FormatError, format_error(p, {"GGUF file"}));
    }
    SECTION("missing file") {
        CHECK_THROWS_AS(Llama2cFile(tmp.file("none.bin")), IoError);
        CHECK_THROWS_WITH(Llama2cFile(tmp.file("none.bin")), Catch::Contains("none.bin"));
    }
    SECTION("read_f32 with a TensorInfo from elsewhere") {
        Llama2cFile f(write(tmp, synthetic(kSmall)));
        TensorInfo forged = *f.find(llama2c_names::wq(0));
        forged.offset += 4;
        std::vector<float> buf(static_cast<size_t>(forged.numel()));
        CHECK_THROWS_AS(f.read_f32(forged, buf.data()), UsageError);
    }
}

TEST_CASE("llama2.c: random headers never crash", "[llama2c][fuzz]") {
    test::TempDir tmp;
    const std::string body = synthetic(kSmall).substr(28);
    std::mt19937 rng(1234);
    const int32_t interesting[] = {0, 1, 2, 3, 4, 8, 12, -1, -10, 10, 6, INT32_MAX, INT32_MIN, 1 << 16};
    int ok = 0, rejected = 0;
    for (int i = 0; i < 3000; ++i) {
        Header h = kSmall;
        for (int field = 0; field < 7; ++field)
            if (rng() % 3 == 0)
                h.*kFields[field] = rng() % 2
                                        ? interesting[rng() % (sizeof interesting / sizeof *interesting)]
                                        : static_cast<int32_t>(rng());
        const auto p = write(tmp, header_bytes(h) + body);
        try {
            Llama2cFile f(p);
            for (const auto& t : f.tensors()) {
                std::vector<float> buf(static_cast<size_t>(t.numel()));
                f.read_f32(t, buf.data());
            }
            (void)llama2c_model_config(f);
            ++ok;
        } catch (const Error&) {
            ++rejected;
        }
    }
    CHECK(ok > 0);
    CHECK(rejected > 0);
}
