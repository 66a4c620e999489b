// tokenizer.json "added_tokens": tokens matched verbatim in the text before the model runs
// (leftmost, longest first), each mapping straight to its id. Tokens with normalized=false are
// matched in the raw text; the others in the normalized text, against their normalized
// content. single_word, lstrip and rstrip behave as in HF tokenizers.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizers/hf/pattern.hpp"

namespace headscope::hf_tok {

class Normalizer;

struct AddedToken {
    int32_t id = -1;
    std::string content;
    bool single_word = false;
    bool lstrip = false;
    bool rstrip = false;
    bool normalized = true;
    bool special = false;
};

class AddedVocabulary {
public:
    // A run of the text: an added token (id >= 0, span includes stripped whitespace) or text
    // left for the model (id == -1).
    struct Segment {
        Span span;
        int32_t id;
    };

    // Builds the matchers; `normalizer` (may be null) rewrites the content of normalized tokens.
    AddedVocabulary(std::vector<AddedToken> tokens, const Normalizer* normalizer);

    std::vector<Segment> split_raw(std::string_view text) const { return split(text, raw_); }
    std::vector<Segment> split_normalized(std::string_view text) const {
        return split(text, normalized_);
    }
    const std::vector<AddedToken>& tokens() const { return tokens_; }
    const AddedToken* find_by_id(int32_t id) const;
    const AddedToken* find_by_content(std::string_view content) const;

private:
    struct Matcher {
        std::vector<std::string> patterns;
        std::vector<size_t> token_index;  // into tokens_
        // Pattern indices by first byte, longest pattern first.
        std::array<std::vector<size_t>, 256> by_first_byte;
    };
    static void add_pattern(Matcher& m, std::string pattern, size_t token_index);
    std::vector<Segment> split(std::string_view text, const Matcher& m) const;

    std::vector<AddedToken> tokens_;
    Matcher raw_;
    Matcher normalized_;
};

}  // namespace headscope::hf_tok
