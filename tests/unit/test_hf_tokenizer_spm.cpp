// SentencePiece-style tokenizer.json files (Llama-2 normalizer style and the newer Metaspace
// pre-tokenizer style) built in the test, with expected ids derived by hand from the merge
// ranks below.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <cstdio>

#include "headscope/error.hpp"
#include "headscope/tokenizer.hpp"
#include "support/test_support.hpp"

using namespace headscope;
using namespace headscope::test;
using nlohmann::json;

namespace {

// ids: 0 <unk>, 1 <s>, 2 </s>, 3..258 <0x00>..<0xFF>, then the pieces below from 259.
const std::vector<std::string> kPieces = {"▁",  "h",   "e",   "l",    "o",      "w",
                                          "r",  "d",   "▁h",  "ll",   "▁he",    "llo",
                                          "▁hello", "▁w", "or", "▁wor", "el"};
constexpr int32_t kSpace = 259, kH = 260, kE = 261, kL = 262, kD = 266, kSpaceH = 267,
                  kLlo = 270, kSpaceHello = 271, kSpaceWor = 274;
constexpr int32_t byte_id(int b) { return 3 + b; }

// Ranks: ll, ▁h, ▁he, llo, ▁hello, or, ▁w, ▁wor, el.
const std::vector<std::pair<std::string, std::string>> kMerges = {
    {"l", "l"}, {"▁", "h"}, {"▁h", "e"}, {"ll", "o"}, {"▁he", "llo"},
    {"o", "r"}, {"▁", "w"}, {"▁w", "or"}, {"e", "l"}};

json base_config(bool byte_fallback) {
    json vocab = json::object();
    vocab["<unk>"] = 0;
    vocab["<s>"] = 1;
    vocab["</s>"] = 2;
    for (int b = 0; b < 256; ++b) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", b);
        vocab[name] = byte_id(b);
    }
    for (size_t i = 0; i < kPieces.size(); ++i) vocab[kPieces[i]] = 259 + static_cast<int>(i);
    json merges = json::array();
    for (const auto& [a, b] : kMerges) merges.push_back(a + " " + b);
    const auto added = [](int id, const char* content) {
        return json{{"id", id},         {"content", content}, {"single_word", false},
                    {"lstrip", false},  {"rstrip", false},    {"normalized", false},
                    {"special", true}};
    };
    return json{
        {"version", "1.0"},
        {"truncation", nullptr},
        {"padding", nullptr},
        {"added_tokens", {added(0, "<unk>"), added(1, "<s>"), added(2, "</s>")}},
        {"model",
         {{"type", "BPE"},
          {"dropout", nullptr},
          {"unk_token", "<unk>"},
          {"continuing_subword_prefix", nullptr},
          {"end_of_word_suffix", nullptr},
          {"fuse_unk", true},
          {"byte_fallback", byte_fallback},
          {"vocab", vocab},
          {"merges", merges}}},
        {"post_processor",
         {{"type", "TemplateProcessing"},
          {"single",
           {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
            {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
          {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {1}}, {"tokens", {"<s>"}}}}}}}}};
}

// Llama-2's tokenizer.json: Prepend + Replace normalizer, no pre-tokenizer, and the
// Replace/ByteFallback/Fuse/Strip decoder.
json llama2_style(bool byte_fallback = true) {
    json c = base_config(byte_fallback);
    c["normalizer"] = {{"type", "Sequence"},
                       {"normalizers",
                        {{{"type", "Prepend"}, {"prepend", "▁"}},
                         {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "▁"}}}}};
    c["pre_tokenizer"] = nullptr;
    c["decoder"] = {
        {"type", "Sequence"},
        {"decoders",
         {{{"type", "Replace"}, {"pattern", {{"String", "▁"}}}, {"content", " "}},
          {{"type", "ByteFallback"}},
          {{"type", "Fuse"}},
          {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}}}};
    return c;
}

// Newer Llama/Mistral files: a Metaspace pre-tokenizer and decoder instead.
json metaspace_style(const std::string& scheme, bool split) {
    json c = base_config(true);
    c["normalizer"] = nullptr;
    c["pre_tokenizer"] = {
        {"type", "Metaspace"}, {"replacement", "▁"}, {"prepend_scheme", scheme}, {"split", split}};
    c["decoder"] = {{"type", "Metaspace"}, {"replacement", "▁"}, {"prepend_scheme", scheme},
                    {"split", split}};
    return c;
}

std::unique_ptr<Tokenizer> load(const json& config, TempDir& tmp) {
    write_file(tmp.file("tokenizer.json"), config.dump());
    return load_hf_tokenizer(tmp.file("tokenizer.json"));
}

using Offsets = std::vector<std::pair<size_t, size_t>>;

}  // namespace

TEST_CASE("Llama-2 style tokenizer.json: merges, offsets, decode", "[hf_tokenizer]") {
    TempDir tmp;
    const auto tok = load(llama2_style(), tmp);
    CHECK(tok->vocab_size() == 259 + static_cast<int32_t>(kPieces.size()));
    CHECK(tok->bos_id() == 1);  // from the TemplateProcessing post-processor
    CHECK(tok->eos_id() == 2);  // "</s>"

    // "▁hello▁world": ll, ▁h, ▁he, llo, ▁hello, or, ▁w, ▁wor -> ▁hello ▁wor l d
    // ("el" never applies: 'e' is merged into ▁he first).
    Encoding e = tok->encode("hello world", false);
    CHECK(e.ids == std::vector<int32_t>{kSpaceHello, kSpaceWor, kL, kD});
    CHECK(e.offsets == Offsets{{0, 5}, {5, 9}, {9, 10}, {10, 11}});
    CHECK(tok->decode(e.ids) == "hello world");

    e = tok->encode("hello world", true);
    CHECK(e.ids == std::vector<int32_t>{1, kSpaceHello, kSpaceWor, kL, kD});
    CHECK(e.offsets.front() == std::pair<size_t, size_t>{0, 0});

    // Two spaces: a lone ▁ between the words.
    e = tok->encode("hello  world", false);
    CHECK(e.ids == std::vector<int32_t>{kSpaceHello, kSpace, kSpaceWor, kL, kD});
    CHECK(e.offsets == Offsets{{0, 5}, {5, 6}, {6, 10}, {10, 11}, {11, 12}});
    CHECK(tok->decode(e.ids) == "hello  world");

    // A leading space: the prepended ▁ stands alone and covers nothing.
    e = tok->encode(" hello", false);
    CHECK(e.ids == std::vector<int32_t>{kSpace, kSpaceHello});
    CHECK(e.offsets == Offsets{{0, 0}, {0, 6}});
    CHECK(tok->decode(e.ids) == " hello");

    CHECK(tok->encode("", false).ids.empty());
    CHECK(tok->piece(kSpaceHello) == "▁hello");
    CHECK(tok->token_text(kSpaceHello) == " hello");
    CHECK(tok->token_text(byte_id(0x0A)) == "\n");
    CHECK(tok->token_text(1).empty());
}

TEST_CASE("Llama-2 style: byte fallback for characters outside the vocabulary",
          "[hf_tokenizer]") {
    TempDir tmp;
    const auto tok = load(llama2_style(), tmp);
    // "▁hé!": ▁h, then é as <0xC3><0xA9>, ! as <0x21>.
    const Encoding e = tok->encode("hé!", false);
    CHECK(e.ids == std::vector<int32_t>{kSpaceH, byte_id(0xC3), byte_id(0xA9), byte_id(0x21)});
    CHECK(e.offsets == Offsets{{0, 1}, {1, 2}, {2, 3}, {3, 4}});
    CHECK(tok->decode(e.ids) == "hé!");
    // Round trip through bytes for text made only of unknown characters.
    for (const std::string text : {"日本語", "😀 👍🏽", "a\nb\tc", "  "}) {
        CHECK(tok->decode(tok->encode(text, false).ids) == text);
    }
    // A lone byte token decodes to its byte.
    CHECK(tok->decode({byte_id(0x41)}) == "A");
}

TEST_CASE("Llama-2 style: unknown token, fused or not, without byte fallback",
          "[hf_tokenizer]") {
    TempDir tmp;
    json config = llama2_style(false);
    SECTION("fused") {
        const auto tok = load(config, tmp);
        const Encoding e = tok->encode("héé", false);
        CHECK(e.ids == std::vector<int32_t>{kSpaceH, 0});
        CHECK(e.offsets == Offsets{{0, 1}, {1, 5}});
    }
    SECTION("not fused") {
        config["model"]["fuse_unk"] = false;
        const auto tok = load(config, tmp);
        const Encoding e = tok->encode("héé", false);
        CHECK(e.ids == std::vector<int32_t>{kSpaceH, 0, 0});
        CHECK(e.offsets == Offsets{{0, 1}, {1, 3}, {3, 5}});
    }
}

TEST_CASE("Llama-2 style: special tokens in the text map straight to their ids",
          "[hf_tokenizer]") {
    TempDir tmp;
    const auto tok = load(llama2_style(), tmp);
    const Encoding e = tok->encode("<s>hello</s>", false);
    // "hello" is normalized on its own (-> "▁hello").
    CHECK(e.ids == std::vector<int32_t>{1, kSpaceHello, 2});
    CHECK(e.offsets == Offsets{{0, 3}, {3, 8}, {8, 12}});
    // HF decodes with the special tokens kept (skip_special_tokens=false).
    CHECK(tok->decode(e.ids) == "<s> hello</s>");
}

TEST_CASE("Metaspace pre-tokenizer: prepend schemes and split", "[hf_tokenizer]") {
    TempDir tmp;
    for (const bool split : {false, true}) {
        INFO("split " << split);
        const auto always = load(metaspace_style("always", split), tmp);
        Encoding e = always->encode("hello world", false);
        CHECK(e.ids == std::vector<int32_t>{kSpaceHello, kSpaceWor, kL, kD});
        CHECK(e.offsets == Offsets{{0, 5}, {5, 9}, {9, 10}, {10, 11}});
        CHECK(always->decode(e.ids) == "hello world");
        // After <s> the text run gets its own ▁ with "always"...
        CHECK(always->encode("<s>hello", false).ids == std::vector<int32_t>{1, kSpaceHello});

        // ...but not with "first", which only prepends at the very start of the input:
        // "hello" -> h e llo.
        const auto first = load(metaspace_style("first", split), tmp);
        CHECK(first->encode("hello", false).ids == std::vector<int32_t>{kSpaceHello});
        CHECK(first->encode("<s>hello", false).ids == std::vector<int32_t>{1, kH, kE, kLlo});
        CHECK(first->decode({kSpaceHello, kSpaceWor, kL, kD}) == "hello world");

        const auto never = load(metaspace_style("never", split), tmp);
        CHECK(never->encode("hello", false).ids == std::vector<int32_t>{kH, kE, kLlo});
        CHECK(never->decode({kSpaceHello}) == " hello");
    }
    // Legacy form: add_prefix_space instead of prepend_scheme.
    json legacy = metaspace_style("always", true);
    legacy["pre_tokenizer"].erase("prepend_scheme");
    legacy["pre_tokenizer"]["add_prefix_space"] = true;
    legacy["decoder"].erase("prepend_scheme");
    legacy["decoder"]["add_prefix_space"] = true;
    CHECK(load(legacy, tmp)->encode("hello", false).ids == std::vector<int32_t>{kSpaceHello});
    legacy["pre_tokenizer"]["add_prefix_space"] = false;
    CHECK(load(legacy, tmp)->encode("hello", false).ids == std::vector<int32_t>{kH, kE, kLlo});
}

TEST_CASE("merges as [a, b] pairs equal merges as \"a b\" strings", "[hf_tokenizer]") {
    TempDir tmp;
    json config = llama2_style();
    json pairs = json::array();
    for (const auto& [a, b] : kMerges) pairs.push_back({a, b});
    config["model"]["merges"] = pairs;
    const auto tok = load(config, tmp);
    CHECK(tok->encode("hello world", false).ids ==
          std::vector<int32_t>{kSpaceHello, kSpaceWor, kL, kD});
}

TEST_CASE("ignore_merges takes a word that is in the vocabulary whole", "[hf_tokenizer]") {
    TempDir tmp;
    // A vocabulary word reachable only through a merge that is missing: "▁hel" exists, but no
    // merge builds it, so BPE gives ▁he l, while ignore_merges returns it as is.
    json config = metaspace_style("always", true);
    config["model"]["vocab"]["▁hel"] = 400;
    CHECK(load(config, tmp)->encode("hel", false).ids == std::vector<int32_t>{269, kL});
    config["model"]["ignore_merges"] = true;
    CHECK(load(config, tmp)->encode("hel", false).ids == std::vector<int32_t>{400});
}
