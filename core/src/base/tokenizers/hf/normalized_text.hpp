// A piece of text on its way through normalizers and pre-tokenizers, with, for every byte, the
// byte range of the original input it came from (HF's NormalizedString, at byte granularity).
// Bytes that were inserted (a prepended '▁' or ' ') cover an empty range at the point where
// they were inserted, so a token made only of them gets begin == end.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "headscope/error.hpp"
#include "tokenizers/hf/pattern.hpp"

namespace headscope::hf_tok {

// Normalizers and pre-tokenizers may grow a text (a prepended '▁', a 3-byte '▁' for a space,
// two-byte byte-level characters), but a degenerate chain of them (a Replace that inserts text
// between every character, dozens of chained ByteLevel steps) would grow it exponentially.
// A piece may grow to at most kMaxTextGrowth times the original bytes it covers plus
// kTextGrowthSlack bytes; beyond that the operation throws TextGrowthError before allocating.
inline constexpr size_t kMaxTextGrowth = 16;
inline constexpr size_t kTextGrowthSlack = 256;

class TextGrowthError : public Error {
public:
    TextGrowthError(size_t original, size_t grown, size_t limit);
    size_t original;  // bytes of input the text stands for
    size_t grown;     // bytes it would have had
    size_t limit;
};
// Throws TextGrowthError when `grown` bytes exceed the limit for `original` input bytes.
void check_text_growth(size_t original, size_t grown);

// HF's SplitDelimiterBehavior: what happens to the matched runs when splitting.
enum class SplitBehavior { removed, isolated, merged_with_previous, merged_with_next, contiguous };

class NormalizedText {
public:
    NormalizedText() = default;
    // `original` is the slice of the input that starts at byte `original_offset`.
    NormalizedText(std::string_view original, size_t original_offset);

    const std::string& text() const { return text_; }
    bool empty() const { return text_.empty(); }
    // Original range of normalized byte i.
    const Span& alignment(size_t i) const { return alignments_[i]; }
    // Where this piece starts in the original input.
    size_t original_begin() const { return alignments_.empty() ? anchor_ : alignments_[0].begin; }
    // The smallest original range covering normalized bytes [begin, end).
    Span original_span(size_t begin, size_t end) const;
    // Bytes of the original input this text stands for.
    size_t original_length() const;

    // The normalized bytes [begin, end) with their alignments.
    NormalizedText slice(size_t begin, size_t end) const;
    // Inserts `prefix` at the front (empty alignment at original_begin()).
    void prepend(const std::string& prefix);
    // Replaces every matched run with `content`; each new byte covers the matched run's range.
    // A match that consumes nothing (an empty regex, a lookahead) replaces nothing.
    void replace(const std::vector<PatternPiece>& pieces, const std::string& content);
    // Rewrites each byte as its byte-level character (GPT-2's bytes_to_unicode), keeping the
    // byte's alignment for every byte of that character.
    void map_bytes_to_unicode();

    // Cuts the text along `pieces` (from a pattern's find_matches on text()); empty results
    // are dropped.
    std::vector<NormalizedText> split(const std::vector<PatternPiece>& pieces,
                                      SplitBehavior behavior) const;

    // check_text_growth over all the pieces a text was split into (their original bytes and their
    // total size), for the steps of a pre-tokenizer chain.
    static void check_growth(const std::vector<NormalizedText>& pieces);

private:
    std::string text_;
    std::vector<Span> alignments_;  // one per byte of text_
    size_t anchor_ = 0;             // original position when text_ is empty
};

}  // namespace headscope::hf_tok
