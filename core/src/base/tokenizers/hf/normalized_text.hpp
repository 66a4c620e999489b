// A piece of text on its way through normalizers and pre-tokenizers, with, for every byte, the
// byte range of the original input it came from (HF's NormalizedString, at byte granularity).
// Bytes that were inserted (a prepended '▁' or ' ') cover an empty range at the point where
// they were inserted, so a token made only of them gets begin == end.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizers/hf/pattern.hpp"

namespace headscope::hf_tok {

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

    // The normalized bytes [begin, end) with their alignments.
    NormalizedText slice(size_t begin, size_t end) const;
    // Inserts `prefix` at the front (empty alignment at original_begin()).
    void prepend(const std::string& prefix);
    // Replaces every matched run with `content`; each new byte covers the matched run's range.
    void replace(const std::vector<PatternPiece>& pieces, const std::string& content);
    // Rewrites each byte as its byte-level character (GPT-2's bytes_to_unicode), keeping the
    // byte's alignment for every byte of that character.
    void map_bytes_to_unicode();

    // Cuts the text along `pieces` (from a pattern's find_matches on text()); empty results
    // are dropped.
    std::vector<NormalizedText> split(const std::vector<PatternPiece>& pieces,
                                      SplitBehavior behavior) const;

private:
    std::string text_;
    std::vector<Span> alignments_;  // one per byte of text_
    size_t anchor_ = 0;             // original position when text_ is empty
};

}  // namespace headscope::hf_tok
