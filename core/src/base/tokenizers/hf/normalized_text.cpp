#include "tokenizers/hf/normalized_text.hpp"

#include <algorithm>
#include <cstdint>
#include <string>

#include "tokenizers/hf/byte_level_map.hpp"

namespace headscope::hf_tok {

TextGrowthError::TextGrowthError(size_t original, size_t grown, size_t limit)
    : Error("normalizers and pre-tokenizers would grow " + std::to_string(original) +
            " bytes of text to " + std::to_string(grown) + " bytes (the limit is " +
            std::to_string(kMaxTextGrowth) + "x the text + " + std::to_string(kTextGrowthSlack) +
            " bytes = " + std::to_string(limit) + ")"),
      original(original),
      grown(grown),
      limit(limit) {}

void check_text_growth(size_t original, size_t grown) {
    const size_t limit = kMaxTextGrowth * original + kTextGrowthSlack;
    if (grown > limit) throw TextGrowthError(original, grown, limit);
}

NormalizedText::NormalizedText(std::string_view original, size_t original_offset)
    : text_(original), anchor_(original_offset) {
    alignments_.reserve(original.size());
    for (size_t i = 0; i < original.size(); ++i) {
        alignments_.push_back({original_offset + i, original_offset + i + 1});
    }
}

Span NormalizedText::original_span(size_t begin, size_t end) const {
    end = std::min(end, alignments_.size());
    if (begin >= end) {
        const size_t at = begin < alignments_.size() ? alignments_[begin].begin
                          : alignments_.empty()      ? anchor_
                                                     : alignments_.back().end;
        return {at, at};
    }
    Span out{alignments_[begin].begin, alignments_[begin].begin};
    bool any = false;
    for (size_t i = begin; i < end; ++i) {
        const Span& a = alignments_[i];
        if (a.begin == a.end) continue;  // inserted byte: covers nothing
        if (!any) {
            out = a;
            any = true;
        } else {
            out.begin = std::min(out.begin, a.begin);
            out.end = std::max(out.end, a.end);
        }
    }
    return out;
}

size_t NormalizedText::original_length() const {
    const Span s = original_span(0, alignments_.size());
    return s.end - s.begin;
}

void NormalizedText::check_growth(const std::vector<NormalizedText>& pieces) {
    size_t begin = SIZE_MAX, end = 0, grown = 0;
    for (const NormalizedText& piece : pieces) {
        const Span s = piece.original_span(0, piece.alignments_.size());
        if (s.begin != s.end) {
            begin = std::min(begin, s.begin);
            end = std::max(end, s.end);
        }
        grown += piece.text_.size();
    }
    check_text_growth(begin < end ? end - begin : 0, grown);
}

NormalizedText NormalizedText::slice(size_t begin, size_t end) const {
    NormalizedText out;
    end = std::min(end, text_.size());
    begin = std::min(begin, end);
    out.text_ = text_.substr(begin, end - begin);
    out.alignments_.assign(alignments_.begin() + static_cast<std::ptrdiff_t>(begin),
                           alignments_.begin() + static_cast<std::ptrdiff_t>(end));
    out.anchor_ = original_span(begin, end).begin;
    return out;
}

void NormalizedText::prepend(const std::string& prefix) {
    const size_t at = original_begin();
    check_text_growth(original_length(), text_.size() + prefix.size());
    text_.insert(0, prefix);
    alignments_.insert(alignments_.begin(), prefix.size(), Span{at, at});
}

void NormalizedText::replace(const std::vector<PatternPiece>& pieces, const std::string& content) {
    if (text_.empty()) return;  // find_matches on "" yields one empty, unmatched run
    size_t grown = 0;
    for (const PatternPiece& piece : pieces) {
        const size_t length = piece.span.end - piece.span.begin;
        grown += !piece.is_match ? length : length == 0 ? 0 : content.size();
    }
    check_text_growth(original_length(), grown);
    std::string text;
    std::vector<Span> alignments;
    text.reserve(text_.size());
    alignments.reserve(alignments_.size());
    for (const PatternPiece& piece : pieces) {
        if (!piece.is_match) {
            text.append(text_, piece.span.begin, piece.span.end - piece.span.begin);
            alignments.insert(alignments.end(),
                              alignments_.begin() + static_cast<std::ptrdiff_t>(piece.span.begin),
                              alignments_.begin() + static_cast<std::ptrdiff_t>(piece.span.end));
            continue;
        }
        if (piece.span.begin == piece.span.end) continue;  // consumed nothing: nothing to replace
        const Span covered = original_span(piece.span.begin, piece.span.end);
        text += content;
        alignments.insert(alignments.end(), content.size(), covered);
    }
    text_ = std::move(text);
    alignments_ = std::move(alignments);
}

void NormalizedText::map_bytes_to_unicode() {
    size_t grown = 0;
    for (const char c : text_) grown += byte_to_unicode(static_cast<uint8_t>(c)).size();
    check_text_growth(original_length(), grown);
    std::string text;
    std::vector<Span> alignments;
    text.reserve(text_.size() * 2);
    alignments.reserve(text_.size() * 2);
    for (size_t i = 0; i < text_.size(); ++i) {
        const std::string& mapped = byte_to_unicode(static_cast<uint8_t>(text_[i]));
        text += mapped;
        alignments.insert(alignments.end(), mapped.size(), alignments_[i]);
    }
    text_ = std::move(text);
    alignments_ = std::move(alignments);
}

std::vector<NormalizedText> NormalizedText::split(const std::vector<PatternPiece>& pieces,
                                                  SplitBehavior behavior) const {
    // First decide the spans to keep (HF's NormalizedString::split), then slice.
    std::vector<PatternPiece> kept;  // is_match here means "remove"
    kept.reserve(pieces.size());
    switch (behavior) {
        case SplitBehavior::isolated:
            for (const auto& p : pieces) kept.push_back({p.span, false});
            break;
        case SplitBehavior::removed:
            kept = pieces;
            break;
        case SplitBehavior::contiguous: {
            bool previous_match = false;
            for (const auto& p : pieces) {
                if (p.is_match == previous_match && !kept.empty()) {
                    kept.back().span.end = p.span.end;
                } else {
                    kept.push_back({p.span, false});
                }
                previous_match = p.is_match;
            }
            break;
        }
        case SplitBehavior::merged_with_previous: {
            bool previous_match = false;
            for (const auto& p : pieces) {
                if (p.is_match && !previous_match && !kept.empty()) {
                    kept.back().span.end = p.span.end;
                } else {
                    kept.push_back({p.span, false});
                }
                previous_match = p.is_match;
            }
            break;
        }
        case SplitBehavior::merged_with_next: {
            bool previous_match = false;
            for (auto it = pieces.rbegin(); it != pieces.rend(); ++it) {
                if (it->is_match && !previous_match && !kept.empty()) {
                    kept.back().span.begin = it->span.begin;
                } else {
                    kept.push_back({it->span, false});
                }
                previous_match = it->is_match;
            }
            std::reverse(kept.begin(), kept.end());
            break;
        }
    }
    std::vector<NormalizedText> out;
    out.reserve(kept.size());
    for (const auto& p : kept) {
        if (p.is_match || p.span.begin >= p.span.end) continue;
        out.push_back(slice(p.span.begin, p.span.end));
    }
    return out;
}

}  // namespace headscope::hf_tok
