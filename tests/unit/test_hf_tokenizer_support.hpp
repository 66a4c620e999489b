// Shared helpers for the HF tokenizer.json tests: the GPT-2 fixture, the independent Python
// reference encoder (tests/tools/hf_tok_gpt2_reference.py) and offset checks.
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "headscope/tokenizer.hpp"
#include "support/test_support.hpp"

namespace headscope::test {

inline std::string gpt2_dir() { return shared_dir() + "/tokenizers/gpt2"; }
inline std::string gpt2_tokenizer_json() { return gpt2_dir() + "/tokenizer.json"; }

// (id, begin, end) for each token.
using RefToken = std::tuple<int32_t, size_t, size_t>;

// Runs the reference encoder on `texts` (valid UTF-8) with the given pre-tokenization pattern
// ("gpt2" or "llama3"); "<|endoftext|>" is cut out as a special token.
inline std::vector<std::vector<RefToken>> reference_encode(const std::vector<std::string>& texts,
                                                           const std::string& pattern = "gpt2") {
    TempDir tmp;
    std::string hex_lines;
    static const char* digits = "0123456789abcdef";
    for (const std::string& t : texts) {
        for (unsigned char c : t) {
            hex_lines += digits[c >> 4];
            hex_lines += digits[c & 15];
        }
        hex_lines += '\n';
    }
    write_file(tmp.file("inputs.hex"), hex_lines);
    const CommandResult r = run_command(
        {python(), source_dir() + "/tests/tools/hf_tok_gpt2_reference.py", gpt2_dir() + "/vocab.json",
         gpt2_dir() + "/merges.txt", tmp.file("inputs.hex"), "--pattern", pattern, "--special",
         "<|endoftext|>"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    std::vector<std::vector<RefToken>> out;
    size_t line_start = 0;
    for (size_t i = 0; i < texts.size(); ++i) {
        const size_t line_end = r.out.find('\n', line_start);
        REQUIRE(line_end != std::string::npos);
        std::vector<RefToken> tokens;
        const std::string line = r.out.substr(line_start, line_end - line_start);
        size_t pos = 0;
        while (pos < line.size()) {
            size_t next = line.find(' ', pos);
            if (next == std::string::npos) next = line.size();
            const std::string item = line.substr(pos, next - pos);
            const size_t c1 = item.find(':');
            const size_t c2 = item.find(':', c1 + 1);
            tokens.emplace_back(std::stoi(item.substr(0, c1)),
                                std::stoul(item.substr(c1 + 1, c2 - c1 - 1)),
                                std::stoul(item.substr(c2 + 1)));
            pos = next + 1;
        }
        out.push_back(std::move(tokens));
        line_start = line_end + 1;
    }
    return out;
}

inline std::vector<RefToken> as_ref_tokens(const Encoding& e) {
    std::vector<RefToken> out;
    for (size_t i = 0; i < e.ids.size(); ++i) {
        out.emplace_back(e.ids[i], e.offsets[i].first, e.offsets[i].second);
    }
    return out;
}

// Offsets tile the text: each token starts where the previous ended, and they cover it all.
inline void check_offsets_tile(const Encoding& e, const std::string& text) {
    REQUIRE(e.ids.size() == e.offsets.size());
    size_t pos = 0;
    for (const auto& [begin, end] : e.offsets) {
        REQUIRE(begin == pos);
        REQUIRE(end >= begin);
        REQUIRE(end <= text.size());
        pos = end;
    }
    REQUIRE(pos == text.size());
}

// A deterministic mixed text of about `chars` characters: words, runs of spaces, tabs and
// newlines, digits, punctuation, code, contractions, accents, CJK and emoji with modifiers/ZWJ.
inline std::string mixed_text(size_t chars) {
    static const std::vector<std::string> fragments = {
        "the", "The", "quick", "brown", "fox", "jumps", " ", "  ", "   ", "\t", "\n", "\n\n",
        " \n ", "I'm", "can't", "they'll", "we've", "she'd", "You're", "IT'S", "1234567890",
        "3.14159", "42", "x**2", "def", "f(x):", "return", "#", "//", "{}", "[]", "()", ";",
        "...", "!?", "\"quoted\"", "'single'", "Café", "naïve", "résumé", "Ærøskøbing",
        "日本語", "のテキスト", "中文", "한국어", "Привет", "мир", "مرحبا", "שלום", "😀", "👍🏽",
        "👨‍👩‍👧", "🇫🇷", "\u00a0", "\u2003", "\u3000", "—", "–", "€", "½", "²", "٣",
        "<|endoftext|>", "<|endoftext", "|>", "a", "b", "z", "Z", "ß", "İ", "ﬁ"};
    uint64_t state = 0x2545F4914F6CDD1DULL;
    std::string out;
    size_t count = 0;
    while (count < chars) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        const std::string& f = fragments[state % fragments.size()];
        out += f;
        for (unsigned char c : f) count += (c & 0xC0) != 0x80;
    }
    return out;
}

}  // namespace headscope::test
