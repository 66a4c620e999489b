// UTF-8, once for the whole core: where one well-formed character ends, decoding, encoding and
// validity checks (tokenizers, the HDF5 store, token labels and the reports all use these).
// Torch-free, never reads outside the given view.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace headscope::utf8 {

// Length (1..4) of the well-formed UTF-8 sequence that starts at s[pos], or 0 when the bytes
// there do not form one: a stray continuation byte, an overlong form, a surrogate (U+D800..
// U+DFFF), a value above U+10FFFF, a lead byte 0xC0/0xC1/0xF5..0xFF, or a sequence cut short by
// the end of `s`. Requires pos < s.size().
std::size_t sequence_length(std::string_view s, std::size_t pos) noexcept;

// True when every byte of `s` belongs to a well-formed UTF-8 sequence (RFC 3629).
bool is_valid(std::string_view s) noexcept;

// The character that starts at s[pos] (pos < s.size()): its code point and length, or, where no
// well-formed sequence starts, valid = false with length 1 (the stray byte alone) and U+FFFD.
struct Char {
    char32_t code_point;
    std::size_t length;
    bool valid;
};
Char decode_at(std::string_view s, std::size_t pos) noexcept;

// Every character of `s`; each byte that starts no well-formed sequence becomes U+FFFD.
std::vector<char32_t> decode(std::string_view s);

// Appends the UTF-8 encoding of a code point (<= U+10FFFF).
void append(std::string& out, char32_t code_point);

}  // namespace headscope::utf8
