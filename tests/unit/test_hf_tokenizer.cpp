// The HF tokenizer.json loader on the real GPT-2 tokenizer, checked against an independent
// Python implementation of GPT-2's encoder (tests/tools/hf_tok_gpt2_reference.py, which reads
// vocab.json + merges.txt) and against published facts.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <thread>

#include "headscope/error.hpp"
#include "headscope/tokenizer.hpp"
#include "test_hf_tokenizer_support.hpp"

using namespace headscope;
using namespace headscope::test;

namespace {

const Tokenizer& gpt2() {
    static const std::unique_ptr<Tokenizer> tok = load_hf_tokenizer(gpt2_tokenizer_json());
    return *tok;
}

std::vector<std::string> hard_strings() {
    return {
        "Hello world",
        "I'm can't they'll we've she'd",
        "a  b\t\tc\n\n\nd   ",
        "😀👍🏽 family 👨‍👩‍👧",
        "日本語のテキスト 中文",
        "Café naïve résumé",
        "1234567890 3.14159",
        "def f(x):\n    return x**2  # comment",
        "Hello<|endoftext|>World",
        "<|endoftext|>",
        " <|endoftext|> <|endoftext|><|endoftext|> x",
        "<|endoftext",
        "",
        " ",
        "   leading and trailing   ",
        "\n",
        "I'M SHOUTING, DON'T",
        "non\u00a0breaking\u2003spaces\u3000here",
        "tab\tthen\n\r\nwindows line",
        "mixed1234abc 12 345 6789",
        "Ünïcödé ΑΒΓ абв",
        "'s 's's ''s",
    };
}

}  // namespace

TEST_CASE("GPT-2 tokenizer.json: published facts", "[hf_tokenizer]") {
    const Tokenizer& tok = gpt2();
    CHECK(tok.encode("Hello world", false).ids == std::vector<int32_t>{15496, 995});
    CHECK(tok.encode("<|endoftext|>", false).ids == std::vector<int32_t>{50256});
    CHECK(tok.vocab_size() == 50257);
    CHECK(tok.bos_id() == 50256);
    CHECK(tok.eos_id() == 50256);
    CHECK(tok.piece(15496) == "Hello");
    CHECK(tok.piece(995) == "Ġworld");
    CHECK(tok.piece(50256) == "<|endoftext|>");
    CHECK(tok.token_text(995) == " world");
    CHECK(tok.token_text(198) == "\n");  // "Ċ"
    CHECK(tok.token_text(50256).empty());
    CHECK(tok.decode({15496, 995}) == "Hello world");

    const Encoding with_bos = tok.encode("Hello world", true);
    CHECK(with_bos.ids == std::vector<int32_t>{50256, 15496, 995});
    CHECK(with_bos.offsets[0] == std::pair<size_t, size_t>{0, 0});
    CHECK(with_bos.offsets[1] == std::pair<size_t, size_t>{0, 5});
    CHECK(with_bos.offsets[2] == std::pair<size_t, size_t>{5, 11});

    CHECK(tok.encode("", false).ids.empty());
    CHECK(tok.encode("", true).ids == std::vector<int32_t>{50256});
    CHECK_THROWS_AS(tok.decode({50257}), UsageError);
    CHECK_THROWS_AS(tok.piece(-1), UsageError);
}

TEST_CASE("GPT-2 tokenizer.json matches the reference encoder on hard strings", "[hf_tokenizer]") {
    const Tokenizer& tok = gpt2();
    std::vector<std::string> texts = hard_strings();
    texts.push_back(mixed_text(20000));
    const auto expected = reference_encode(texts);
    REQUIRE(expected.size() == texts.size());
    for (size_t i = 0; i < texts.size(); ++i) {
        INFO("text #" << i << ": " << texts[i].substr(0, 200));
        const Encoding e = tok.encode(texts[i], false);
        CHECK(e.ids.size() == expected[i].size());
        CHECK(as_ref_tokens(e) == expected[i]);  // ids and byte offsets
        CHECK(tok.decode(e.ids) == texts[i]);
        check_offsets_tile(e, texts[i]);
    }
    // The long text really is long and exercises the special token.
    CHECK(texts.back().size() > 20000);
    CHECK(texts.back().find("<|endoftext|>") != std::string::npos);
}

TEST_CASE("GPT-2 tokens decode to exactly the bytes their offsets cover", "[hf_tokenizer]") {
    const Tokenizer& tok = gpt2();
    for (const std::string& text : {std::string("😀👍🏽 family 👨‍👩‍👧"), std::string("日本語のテキスト 中文"),
                                    mixed_text(3000)}) {
        const Encoding e = tok.encode(text, false);
        for (size_t i = 0; i < e.ids.size(); ++i) {
            const auto [begin, end] = e.offsets[i];
            if (e.ids[i] == 50256) continue;  // special: its text is its content
            INFO("token " << i << " id " << e.ids[i]);
            CHECK(tok.decode({e.ids[i]}) == text.substr(begin, end - begin));
        }
    }
}

TEST_CASE("GPT-2 round trip holds for arbitrary bytes, including invalid UTF-8", "[hf_tokenizer]") {
    const Tokenizer& tok = gpt2();
    using namespace std::string_literals;
    std::vector<std::string> texts = {"\xff\xfe abc \xe2\x82"s, "a\0b"s,
                                      "\xc0\x80 overlong \xed\xa0\x80 surrogate"s,
                                      "\xf0\x9f\x98"s, "x\x80\x80\x80y"s};
    uint64_t state = 12345;
    for (int n = 0; n < 20; ++n) {
        std::string s;
        for (int i = 0; i < 64; ++i) {
            state = state * 6364136223846793005ULL + 1442695040888963407ULL;
            s.push_back(static_cast<char>(state >> 56));
        }
        texts.push_back(s);
    }
    for (const std::string& text : texts) {
        const Encoding e = tok.encode(text, false);
        CHECK(tok.decode(e.ids) == text);
        check_offsets_tile(e, text);
    }
}

TEST_CASE("Split(regex, Isolated) + ByteLevel(use_regex=false) equals GPT-2's ByteLevel",
          "[hf_tokenizer]") {
    nlohmann::json config = nlohmann::json::parse(read_file(gpt2_tokenizer_json()));
    const std::string gpt2_pattern =
        R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
    const std::string llama3_pattern =
        R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
    const auto with_split = [&](const std::string& pattern) {
        nlohmann::json c = config;
        c["pre_tokenizer"] = {
            {"type", "Sequence"},
            {"pretokenizers",
             {{{"type", "Split"},
               {"pattern", {{"Regex", pattern}}},
               {"behavior", "Isolated"},
               {"invert", false}},
              {{"type", "ByteLevel"},
               {"add_prefix_space", false},
               {"trim_offsets", true},
               {"use_regex", false}}}}};
        return c;
    };
    TempDir tmp;
    std::vector<std::string> texts = hard_strings();
    texts.push_back("I'M HERE, WE'VE GOT 1234567 ITEMS\r\n\r\nTHEY'LL\tSEE");
    texts.push_back(mixed_text(5000));

    SECTION("GPT-2's own pattern through Split gives GPT-2's ids") {
        write_file(tmp.file("tokenizer.json"), with_split(gpt2_pattern).dump());
        const auto tok = load_hf_tokenizer(tmp.path());
        for (const std::string& text : texts) {
            INFO(text.substr(0, 200));
            CHECK(tok->encode(text, false).ids == gpt2().encode(text, false).ids);
        }
    }
    SECTION("Llama-3's pattern matches the reference encoder with that pattern") {
        write_file(tmp.file("tokenizer.json"), with_split(llama3_pattern).dump());
        const auto tok = load_hf_tokenizer(tmp.path());
        const auto expected = reference_encode(texts, "llama3");
        for (size_t i = 0; i < texts.size(); ++i) {
            INFO(texts[i].substr(0, 200));
            const Encoding e = tok->encode(texts[i], false);
            CHECK(as_ref_tokens(e) == expected[i]);
            CHECK(tok->decode(e.ids) == texts[i]);
        }
        // Llama-3 keeps digits in groups of at most three and contractions case-insensitive.
        CHECK(tok->encode("1234567", false).ids.size() == 3);
    }
}

TEST_CASE("GPT-2 ByteLevel add_prefix_space prepends a space to each text run",
          "[hf_tokenizer]") {
    nlohmann::json config = nlohmann::json::parse(read_file(gpt2_tokenizer_json()));
    config["pre_tokenizer"]["add_prefix_space"] = true;
    TempDir tmp;
    write_file(tmp.file("tokenizer.json"), config.dump());
    const auto tok = load_hf_tokenizer(tmp.file("tokenizer.json"));
    // "Hello" -> " Hello" (18435 = "ĠHello"); the inserted space covers no source bytes.
    const Encoding e = tok->encode("Hello world", false);
    CHECK(e.ids == std::vector<int32_t>{18435, 995});
    CHECK(e.offsets[0] == std::pair<size_t, size_t>{0, 5});
    // Text already starting with a space gets none added.
    CHECK(tok->encode(" Hello", false).ids == std::vector<int32_t>{18435});
    // Each run around an added token is its own text: both get the space.
    CHECK(tok->encode("Hello<|endoftext|>world", false).ids ==
          std::vector<int32_t>{18435, 50256, 995});
}

TEST_CASE("GPT-2 tokenizer is safe to use from several threads", "[hf_tokenizer]") {
    const Tokenizer& tok = gpt2();
    const std::string text = mixed_text(4000);
    const std::vector<int32_t> expected = tok.encode(text, false).ids;
    std::vector<int> ok(4, 0);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int k = 0; k < 3; ++k) ok[t] += tok.encode(text, false).ids == expected;
        });
    }
    for (auto& th : threads) th.join();
    CHECK(ok == std::vector<int>(4, 3));
}
