// What a Split, Replace or ByteLevel step matches: a literal string or a regular expression
// (PCRE2 in UTF + Unicode-property mode, standing in for the Oniguruma engine HF tokenizers
// uses; invalid UTF-8 in the subject is tolerated and never matched). The one known difference
// from Oniguruma on tokenizer patterns: PCRE2's \s also matches U+180E MONGOLIAN VOWEL
// SEPARATOR, which is no longer White_Space in Unicode.
#pragma once

#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace headscope::hf_tok {

struct Span {
    size_t begin = 0;
    size_t end = 0;
};

// A run of the subject and whether the pattern matched it. find_matches returns runs that
// cover the subject contiguously, in order (HF's Pattern::find_matches).
struct PatternPiece {
    Span span;
    bool is_match = false;
};

// A match that PCRE2 gave up on (its match or depth limit: catastrophic backtracking).
class RegexMatchError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A compiled PCRE2 expression, shareable between threads.
class Regex {
public:
    // Throws std::invalid_argument naming the PCRE2 error and its offset in the pattern.
    // Matching throws RegexMatchError when PCRE2 gives up.
    explicit Regex(const std::string& pattern);
    std::vector<PatternPiece> find_matches(std::string_view subject) const;
    // Length of the match anchored at the start of `subject`, or npos when there is none.
    size_t anchored_match_length(std::string_view subject) const;
    const std::string& pattern() const { return pattern_; }

private:
    struct Compiled;
    std::string pattern_;
    std::shared_ptr<const Compiled> compiled_;
};

// HF's SplitPattern: {"String": "..."} or {"Regex": "..."}.
class TextPattern {
public:
    static TextPattern literal(std::string text);
    static TextPattern regex(const std::string& pattern);  // throws std::invalid_argument
    std::vector<PatternPiece> find_matches(std::string_view subject) const;
    // With invert, matched and unmatched runs swap roles (HF's Invert).
    std::vector<PatternPiece> find_matches(std::string_view subject, bool invert) const;

private:
    std::string literal_;
    std::shared_ptr<const Regex> regex_;
};

}  // namespace headscope::hf_tok
