#include "tokenizers/hf/added_vocabulary.hpp"

#include <algorithm>

#include "tokenizers/hf/normalizers.hpp"
#include "tokenizers/hf/unicode_classes.hpp"

namespace headscope::hf_tok {

AddedVocabulary::AddedVocabulary(std::vector<AddedToken> tokens, const Normalizer* normalizer)
    : tokens_(std::move(tokens)) {
    for (size_t i = 0; i < tokens_.size(); ++i) {
        const AddedToken& t = tokens_[i];
        if (t.content.empty()) continue;
        if (!t.normalized) {
            add_pattern(raw_, t.content, i);
            continue;
        }
        NormalizedText content(t.content, 0);
        if (normalizer != nullptr) normalizer->normalize(content);
        if (!content.empty()) add_pattern(normalized_, content.text(), i);
    }
    for (Matcher* m : {&raw_, &normalized_}) {
        for (auto& bucket : m->by_first_byte) {
            std::stable_sort(bucket.begin(), bucket.end(), [m](size_t a, size_t b) {
                return m->patterns[a].size() > m->patterns[b].size();
            });
        }
    }
}

void AddedVocabulary::add_pattern(Matcher& m, std::string pattern, size_t token_index) {
    // The first token with a given content wins, as in HF.
    if (std::find(m.patterns.begin(), m.patterns.end(), pattern) != m.patterns.end()) return;
    const auto first = static_cast<uint8_t>(pattern[0]);
    m.by_first_byte[first].push_back(m.patterns.size());
    m.patterns.push_back(std::move(pattern));
    m.token_index.push_back(token_index);
}

const AddedToken* AddedVocabulary::find_by_id(int32_t id) const {
    for (const AddedToken& t : tokens_) {
        if (t.id == id) return &t;
    }
    return nullptr;
}

const AddedToken* AddedVocabulary::find_by_content(std::string_view content) const {
    for (const AddedToken& t : tokens_) {
        if (t.content == content) return &t;
    }
    return nullptr;
}

std::vector<AddedVocabulary::Segment> AddedVocabulary::split(std::string_view text,
                                                             const Matcher& m) const {
    std::vector<Segment> out;
    if (text.empty()) return out;
    size_t emitted = 0;  // text before this is already in `out`
    size_t pos = 0;      // where the next search starts
    while (pos < text.size()) {
        // Leftmost position where some pattern matches; longest pattern there.
        size_t start = pos;
        size_t pattern = SIZE_MAX;
        for (; start < text.size() && pattern == SIZE_MAX; ++start) {
            for (const size_t p : m.by_first_byte[static_cast<uint8_t>(text[start])]) {
                if (text.compare(start, m.patterns[p].size(), m.patterns[p]) == 0) {
                    pattern = p;
                    break;
                }
            }
            if (pattern != SIZE_MAX) break;
        }
        if (pattern == SIZE_MAX) break;
        size_t stop = start + m.patterns[pattern].size();
        pos = stop;
        const AddedToken& token = tokens_[m.token_index[pattern]];
        if (token.single_word) {
            const bool space_before = start == 0 || !ends_with_word_char(text.substr(0, start));
            const bool space_after = stop == text.size() || !starts_with_word_char(text.substr(stop));
            if (!space_before || !space_after) continue;  // inside a word: not this token
        }
        if (token.lstrip) {
            start = std::max(trailing_whitespace_begin(text.substr(0, start)), emitted);
        }
        if (token.rstrip) stop += leading_whitespace_length(text.substr(stop));
        if (emitted < start) out.push_back({{emitted, start}, -1});
        out.push_back({{start, stop}, token.id});
        emitted = stop;
        pos = stop;
    }
    if (emitted < text.size()) out.push_back({{emitted, text.size()}, -1});
    return out;
}

}  // namespace headscope::hf_tok
