// Pieces of the tokenizer.json pipeline checked against the behaviour HF tokenizers documents
// in its own tests (split behaviours, Metaspace splits, added-token flags) and against GPT-2's
// published byte map.
#include <catch2/catch.hpp>

#include "tokenizers/hf/added_vocabulary.hpp"
#include "tokenizers/hf/byte_level_map.hpp"
#include "tokenizers/hf/normalized_text.hpp"
#include "tokenizers/hf/pattern.hpp"

using namespace headscope::hf_tok;

namespace {

using Splits = std::vector<std::pair<std::string, std::pair<size_t, size_t>>>;

// Each split's text and its range in the original.
Splits describe(const std::vector<NormalizedText>& splits) {
    Splits out;
    for (const NormalizedText& s : splits) {
        const Span span = s.original_span(0, s.text().size());
        out.push_back({s.text(), {span.begin, span.end}});
    }
    return out;
}

}  // namespace

TEST_CASE("byte-level map is GPT-2's bytes_to_unicode", "[hf_tokenizer]") {
    CHECK(byte_to_unicode(' ') == "Ġ");
    CHECK(byte_to_unicode('\n') == "Ċ");
    CHECK(byte_to_unicode('\t') == "ĉ");
    CHECK(byte_to_unicode(0x00) == "Ā");
    CHECK(byte_to_unicode('!') == "!");
    CHECK(byte_to_unicode(0xAD) == "Ń");  // soft hyphen, the last non-printable Latin-1 byte
    CHECK(byte_to_unicode(0xE9) == "é");
    for (int b = 0; b < 256; ++b) {
        const std::string& s = byte_to_unicode(static_cast<uint8_t>(b));
        // Decode the one character and map it back.
        uint32_t cp = static_cast<uint8_t>(s[0]);
        if (s.size() == 2) cp = ((cp & 0x1Fu) << 6) | (static_cast<uint8_t>(s[1]) & 0x3Fu);
        CHECK(unicode_to_byte(cp) == static_cast<uint8_t>(b));
    }
    CHECK_FALSE(unicode_to_byte(' ').has_value());
    CHECK_FALSE(unicode_to_byte(0x2581).has_value());
}

TEST_CASE("split behaviours match HF's documented results", "[hf_tokenizer]") {
    // HF's split.rs test: regex \w+|[^\w\s]+ inverted, on "How are you doing?".
    const NormalizedText text("How are you doing?", 0);
    const TextPattern words = TextPattern::regex("\\w+|[^\\w\\s]+");
    const auto pieces = words.find_matches(text.text(), true);
    CHECK(describe(text.split(pieces, SplitBehavior::removed)) ==
          Splits{{"How", {0, 3}}, {"are", {4, 7}}, {"you", {8, 11}}, {"doing", {12, 17}},
                 {"?", {17, 18}}});
    CHECK(describe(text.split(pieces, SplitBehavior::isolated)) ==
          Splits{{"How", {0, 3}}, {" ", {3, 4}}, {"are", {4, 7}}, {" ", {7, 8}}, {"you", {8, 11}},
                 {" ", {11, 12}}, {"doing", {12, 17}}, {"?", {17, 18}}});
    CHECK(describe(text.split(pieces, SplitBehavior::merged_with_previous)) ==
          Splits{{"How ", {0, 4}}, {"are ", {4, 8}}, {"you ", {8, 12}}, {"doing", {12, 17}},
                 {"?", {17, 18}}});
    CHECK(describe(text.split(pieces, SplitBehavior::merged_with_next)) ==
          Splits{{"How", {0, 3}}, {" are", {3, 7}}, {" you", {7, 11}}, {" doing", {11, 17}},
                 {"?", {17, 18}}});
    CHECK(describe(text.split(pieces, SplitBehavior::contiguous)) ==
          Splits{{"How", {0, 3}}, {" ", {3, 4}}, {"are", {4, 7}}, {" ", {7, 8}}, {"you", {8, 11}},
                 {" ", {11, 12}}, {"doing?", {12, 18}}});
}

TEST_CASE("Metaspace-style rewrite keeps alignments (HF's multiple_spaces example)",
          "[hf_tokenizer]") {
    NormalizedText text("Hey   friend!", 0);
    text.replace(TextPattern::literal(" ").find_matches(text.text()), "▁");
    text.prepend("▁");
    const auto splits =
        text.split(TextPattern::literal("▁").find_matches(text.text()), SplitBehavior::merged_with_next);
    CHECK(describe(splits) == Splits{{"▁Hey", {0, 3}}, {"▁", {3, 4}}, {"▁", {4, 5}},
                                     {"▁friend!", {5, 13}}});
    // The prepended marker covers nothing; the replaced space covers its byte.
    CHECK(splits[0].original_span(0, 3).begin == splits[0].original_span(0, 3).end);
    CHECK(splits[1].original_span(0, 3).begin == 3);
}

TEST_CASE("GPT-2 pattern pieces, including invalid UTF-8", "[hf_tokenizer]") {
    const Regex re(R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)");
    const std::string text = "Hello  world's 42!\n";
    std::vector<std::string> matched;
    for (const PatternPiece& p : re.find_matches(text)) {
        CHECK(p.is_match);
        matched.push_back(text.substr(p.span.begin, p.span.end - p.span.begin));
    }
    CHECK(matched == std::vector<std::string>{"Hello", " ", " world", "'s", " 42", "!", "\n"});
    // Invalid bytes never match: they come back as unmatched runs, and runs still tile.
    const std::string bad("ab\xff\xfe cd", 7);
    size_t pos = 0;
    bool saw_unmatched = false;
    for (const PatternPiece& p : re.find_matches(bad)) {
        CHECK(p.span.begin == pos);
        pos = p.span.end;
        saw_unmatched |= !p.is_match;
    }
    CHECK(pos == bad.size());
    CHECK(saw_unmatched);
}

TEST_CASE("added tokens: leftmost-longest, lstrip, rstrip, single_word", "[hf_tokenizer]") {
    const auto segments = [](const AddedVocabulary& v, const std::string& text) {
        std::vector<std::pair<int32_t, std::string>> out;
        for (const auto& s : v.split_raw(text)) {
            out.emplace_back(s.id, text.substr(s.span.begin, s.span.end - s.span.begin));
        }
        return out;
    };
    using Segs = std::vector<std::pair<int32_t, std::string>>;
    const auto token = [](int32_t id, std::string content) {
        AddedToken t;
        t.id = id;
        t.content = std::move(content);
        t.normalized = false;
        return t;
    };

    AddedVocabulary plain({token(10, "<a>"), token(11, "<a><b>"), token(12, "<b>")}, nullptr);
    CHECK(segments(plain, "x<a><b>y<b><a>") ==
          Segs{{-1, "x"}, {11, "<a><b>"}, {-1, "y"}, {12, "<b>"}, {10, "<a>"}});
    CHECK(segments(plain, "").empty());
    CHECK(segments(plain, "<a") == Segs{{-1, "<a"}});

    // RoBERTa's <mask> strips the whitespace on its left.
    AddedToken mask = token(50, "<mask>");
    mask.lstrip = true;
    CHECK(segments(AddedVocabulary({mask}, nullptr), "Hello  <mask> there") ==
          Segs{{-1, "Hello"}, {50, "  <mask>"}, {-1, " there"}});
    mask.lstrip = false;
    mask.rstrip = true;
    CHECK(segments(AddedVocabulary({mask}, nullptr), "Hello <mask>\t there") ==
          Segs{{-1, "Hello "}, {50, "<mask>\t "}, {-1, "there"}});

    AddedToken word = token(60, "ab");
    word.single_word = true;
    CHECK(segments(AddedVocabulary({word}, nullptr), "ab cab ab, abc") ==
          Segs{{60, "ab"}, {-1, " cab "}, {60, "ab"}, {-1, ", abc"}});
}
