// The real stories260K checkpoint, shipped as GGUF v1 (f32) and as a llama2.c .bin: both
// readers must see the published configuration and exactly the same weights.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "headscope/error.hpp"
#include "headscope/formats/gguf_file.hpp"
#include "headscope/formats/llama2c_file.hpp"
#include "support/test_support.hpp"

using namespace headscope;

namespace {
std::vector<float> read_all(const TensorSource& src, const std::string& name) {
    const TensorInfo* t = src.find(name);
    REQUIRE(t != nullptr);
    std::vector<float> out(static_cast<size_t>(t->numel()));
    src.read_f32(*t, out.data());
    return out;
}

bool bitwise_equal(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Hugging Face's q/k row permutation (what convert scripts undo or apply when moving between
// Meta's interleaved rotary layout and HF's half-split layout), applied to an [n_heads*d, in] matrix.
std::vector<float> hf_permute(const std::vector<float>& w, int n_heads, int rows, int cols) {
    const int half = rows / n_heads / 2;
    std::vector<float> out(w.size());
    for (int h = 0; h < n_heads; ++h)
        for (int i = 0; i < half; ++i)
            for (int pair = 0; pair < 2; ++pair) {
                const int src = h * 2 * half + 2 * i + pair;     // interleaved (Meta)
                const int dst = h * 2 * half + pair * half + i;  // half-split (HF)
                std::memcpy(&out[static_cast<size_t>(dst) * cols], &w[static_cast<size_t>(src) * cols],
                            sizeof(float) * static_cast<size_t>(cols));
            }
    return out;
}
}  // namespace

TEST_CASE("stories260K GGUF: header, metadata and tensor directory", "[gguf]") {
    GgufFile f(test::stories_gguf());
    CHECK(f.version() == 1);
    CHECK(f.tensors().size() == 48);
    CHECK(f.get_string("general.architecture") == std::string("llama"));
    CHECK(f.get_string("general.name") == std::string("tinyllamas-stories-260k"));
    CHECK(f.get_int("llama.block_count") == 5);
    CHECK(f.get_string("llama.tensor_data_layout") == std::string("Meta AI original pth"));
    CHECK(f.get_float("llama.attention.layer_norm_rms_epsilon").value() == Approx(1e-5).epsilon(1e-6));
    CHECK_FALSE(f.get_int("no.such.key").has_value());
    CHECK_THROWS_AS(f.get_int("general.architecture"), FormatError);  // a string, not an integer

    const TensorInfo* emb = f.find("token_embd.weight");
    REQUIRE(emb);
    CHECK(emb->shape == std::vector<int64_t>{512, 64});  // GGUF ne = [64, 512], reversed
    CHECK(emb->type == StorageType::f32);
    CHECK(emb->nbytes == 512 * 64 * 4);
    CHECK(f.find("blk.0.attn_k.weight")->shape == std::vector<int64_t>{32, 64});
    CHECK(f.find("blk.0.ffn_gate.weight")->shape == std::vector<int64_t>{172, 64});
    CHECK(f.find("blk.0.ffn_down.weight")->shape == std::vector<int64_t>{64, 172});
    CHECK(f.find("blk.4.ffn_norm.weight")->shape == std::vector<int64_t>{64});
    // The data section starts at the 32-aligned end of the 11450-byte header; the last tensor
    // (output.weight) ends exactly at the end of the 1182656-byte file.
    CHECK(emb->offset == 11456);
    const TensorInfo* out = f.find("output.weight");
    REQUIRE(out);
    CHECK(out->offset + out->nbytes == 1182656);
}

TEST_CASE("stories260K GGUF: model config matches the published architecture", "[gguf]") {
    GgufFile f(test::stories_gguf());
    ModelConfig c = gguf_model_config(f);
    CHECK(c.architecture == Architecture::llama);
    CHECK(c.name == "tinyllamas-stories-260k");
    CHECK(c.d_model == 64);
    CHECK(c.n_layers == 5);
    CHECK(c.n_heads == 8);
    CHECK(c.n_kv_heads == 4);
    CHECK(c.d_head == 8);
    CHECK(c.d_mlp == 172);
    CHECK(c.d_vocab == 512);
    CHECK(c.n_ctx == 512);
    CHECK(c.norm == NormKind::rms);
    CHECK(c.norm_eps == Approx(1e-5).epsilon(1e-6));
    CHECK(c.positions == PositionKind::rotary);
    CHECK(c.rotary_style == RotaryStyle::interleaved);
    CHECK(c.rope_theta == 10000.0);  // no rope.freq_base key: llama's default
    CHECK(c.rotary_dim == 8);
    CHECK(c.gated_mlp);
    CHECK(c.activation == Activation::silu);
    CHECK(c.bos_token_id == 1);
    CHECK(c.eos_token_id == 2);
    // The converter wrote the tied classifier out as its own output.weight tensor.
    CHECK_FALSE(c.tied_embeddings);
    CHECK(bitwise_equal(read_all(f, "output.weight"), read_all(f, "token_embd.weight")));
}

TEST_CASE("stories260K GGUF: embedded vocabulary equals tok512.bin", "[gguf]") {
    GgufFile f(test::stories_gguf());
    Vocabulary v = gguf_vocabulary(f);
    REQUIRE(v.pieces.size() == 512);
    REQUIRE(v.scores.size() == 512);
    REQUIRE(v.kinds.size() == 512);
    CHECK(v.pieces[0] == "<unk>");
    CHECK(v.pieces[1] == "<s>");
    CHECK(v.pieces[2] == "</s>");
    CHECK(v.pieces[3] == "<0x00>");
    CHECK(v.kinds[0] == TokenKind::unknown);
    CHECK(v.kinds[1] == TokenKind::control);
    CHECK(v.kinds[3] == TokenKind::byte);
    CHECK(v.kinds[300] == TokenKind::normal);
    CHECK(v.bos_id == 1);
    CHECK(v.eos_id == 2);
    CHECK(v.unk_id == 0);
    CHECK(v.uses_space_marker);
    CHECK(v.add_dummy_prefix);

    // tok512.bin, parsed here independently: int32 max_len, then (f32 score, int32 len, bytes).
    // It spells spaces as ' ' where GGUF uses U+2581, and wraps <s>/</s> in newlines.
    const std::string bin = test::read_file(test::stories_tokenizer());
    size_t at = 4;
    int mismatches = 0;
    for (size_t id = 0; id < 512; ++id) {
        float score;
        int32_t len;
        REQUIRE(at + 8 <= bin.size());
        std::memcpy(&score, bin.data() + at, 4);
        std::memcpy(&len, bin.data() + at + 4, 4);
        at += 8;
        REQUIRE(at + static_cast<size_t>(len) <= bin.size());
        std::string piece = bin.substr(at, static_cast<size_t>(len));
        at += static_cast<size_t>(len);
        if (v.scores[id] != score) ++mismatches;
        if (id == 1 || id == 2) continue;
        std::string marked;
        for (char ch : piece) marked += ch == ' ' ? std::string("\xE2\x96\x81") : std::string(1, ch);
        if (marked != v.pieces[id]) ++mismatches;
    }
    CHECK(at == bin.size());
    CHECK(mismatches == 0);
}

TEST_CASE("stories260K: GGUF and llama2.c hold identical weights, element for element", "[gguf][llama2c]") {
    GgufFile g(test::stories_gguf());
    Llama2cFile b(test::stories_bin());
    struct Pair {
        std::string gguf, llama2c;
    };
    std::vector<Pair> pairs = {{gguf_names::token_embd(), llama2c_names::tok_embeddings()},
                               {gguf_names::output_norm(), llama2c_names::norm()},
                               // the untied GGUF classifier is the llama2.c shared embedding
                               {gguf_names::output(), llama2c_names::tok_embeddings()}};
    for (int l = 0; l < 5; ++l) {
        pairs.push_back({gguf_names::attn_norm(l), llama2c_names::attention_norm(l)});
        pairs.push_back({gguf_names::attn_q(l), llama2c_names::wq(l)});
        pairs.push_back({gguf_names::attn_k(l), llama2c_names::wk(l)});
        pairs.push_back({gguf_names::attn_v(l), llama2c_names::wv(l)});
        pairs.push_back({gguf_names::attn_output(l), llama2c_names::wo(l)});
        pairs.push_back({gguf_names::ffn_norm(l), llama2c_names::ffn_norm(l)});
        pairs.push_back({gguf_names::ffn_gate(l), llama2c_names::w1(l)});
        pairs.push_back({gguf_names::ffn_down(l), llama2c_names::w2(l)});
        pairs.push_back({gguf_names::ffn_up(l), llama2c_names::w3(l)});
    }
    CHECK(pairs.size() == 48);
    for (const auto& p : pairs) {
        INFO(p.gguf << " vs " << p.llama2c);
        REQUIRE(g.find(p.gguf));
        REQUIRE(b.find(p.llama2c));
        CHECK(g.find(p.gguf)->shape == b.find(p.llama2c)->shape);
        CHECK(bitwise_equal(read_all(g, p.gguf), read_all(b, p.llama2c)));
    }
}

TEST_CASE("stories260K: GGUF q/k are stored unpermuted (Meta interleaved layout, like llama2.c)",
          "[gguf][llama2c]") {
    // llama.cpp's convert_hf_to_gguf permutes HF q/k rows back to Meta's interleaved order; this
    // file came from llama2.c (tensor_data_layout "Meta AI original pth"), so no permutation is
    // involved at all. The equality above is only meaningful if the permutation changes the
    // matrix, which this checks, and the GGUF matrix must not equal the permuted one.
    GgufFile g(test::stories_gguf());
    Llama2cFile b(test::stories_bin());
    for (int l = 0; l < 5; ++l) {
        auto wq = read_all(b, llama2c_names::wq(l));
        auto wk = read_all(b, llama2c_names::wk(l));
        CHECK_FALSE(bitwise_equal(hf_permute(wq, 8, 64, 64), wq));
        CHECK_FALSE(bitwise_equal(read_all(g, gguf_names::attn_q(l)), hf_permute(wq, 8, 64, 64)));
        CHECK_FALSE(bitwise_equal(read_all(g, gguf_names::attn_k(l)), hf_permute(wk, 4, 32, 64)));
    }
}
