// Lenient UTF-8 stepping for the HF tokenizer pipeline: valid sequences decode to their code
// point; any byte that does not start a valid sequence counts as one "character" of its own, so
// text with invalid UTF-8 is still walked byte-exactly and never read out of bounds. A thin view
// of the core's one UTF-8 implementation (tokenizers/utf8.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tokenizers/utf8.hpp"

namespace headscope::hf_tok {

// Marks a byte that does not start a valid UTF-8 sequence.
inline constexpr int32_t kInvalidCodePoint = -1;

struct Utf8Char {
    int32_t code_point;  // kInvalidCodePoint for a stray byte
    size_t length;       // bytes consumed, >= 1 whenever pos < text.size()
};

// Decodes the character that starts at `pos` (pos < text.size()). Rejects overlong forms,
// surrogates and code points above U+10FFFF, as PCRE2 and Rust's str do.
inline Utf8Char next_utf8_char(std::string_view text, size_t pos) {
    const utf8::Char c = utf8::decode_at(text, pos);
    return {c.valid ? static_cast<int32_t>(c.code_point) : kInvalidCodePoint, c.length};
}

// Appends the UTF-8 encoding of a valid code point.
inline void append_utf8(std::string& out, uint32_t code_point) { utf8::append(out, static_cast<char32_t>(code_point)); }

// True when the whole string is valid UTF-8.
inline bool is_valid_utf8(std::string_view text) { return utf8::is_valid(text); }

}  // namespace headscope::hf_tok
