#include "tokenizers/hf/unicode_classes.hpp"

#include "tokenizers/hf/pattern.hpp"
#include "tokenizers/hf/utf8.hpp"

namespace headscope::hf_tok {
namespace {

const Regex& whitespace_run() {
    static const Regex re("\\s+");
    return re;
}

const Regex& word_char() {
    static const Regex re("\\w");
    return re;
}

// Start of the last character of a non-empty text (a stray byte counts as one character).
size_t last_char_begin(std::string_view text) {
    const size_t n = text.size();
    for (size_t back = 1; back <= 4 && back <= n; ++back) {
        const size_t start = n - back;
        const Utf8Char c = next_utf8_char(text, start);
        if (c.code_point != kInvalidCodePoint && start + c.length == n) return start;
    }
    return n - 1;
}

}  // namespace

size_t leading_whitespace_length(std::string_view text) {
    const size_t len = whitespace_run().anchored_match_length(text);
    return len == std::string_view::npos ? 0 : len;
}

size_t trailing_whitespace_begin(std::string_view text) {
    size_t end = text.size();
    while (end > 0) {
        const size_t start = last_char_begin(text.substr(0, end));
        if (whitespace_run().anchored_match_length(text.substr(start, end - start)) !=
            end - start) {
            break;
        }
        end = start;
    }
    return end;
}

bool starts_with_word_char(std::string_view text) {
    return !text.empty() && word_char().anchored_match_length(text) != std::string_view::npos;
}

bool ends_with_word_char(std::string_view text) {
    if (text.empty()) return false;
    return starts_with_word_char(text.substr(last_char_begin(text)));
}

}  // namespace headscope::hf_tok
