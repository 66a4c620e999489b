// Unicode character classes the pipeline needs outside regex patterns (added-token lstrip /
// rstrip / single_word, the Strip normalizer), answered by PCRE2's Unicode tables: whitespace is
// \s (White_Space), a word character is \w (letters, digits, marks, connector punctuation).
#pragma once

#include <cstddef>
#include <string_view>

namespace headscope::hf_tok {

// Bytes of whitespace at the start of `text`.
size_t leading_whitespace_length(std::string_view text);
// Where the whitespace run that ends `text` begins (text.size() when there is none).
size_t trailing_whitespace_begin(std::string_view text);
bool starts_with_word_char(std::string_view text);
bool ends_with_word_char(std::string_view text);

}  // namespace headscope::hf_tok
