// UTF-8 helpers for the tokenizers: where one well-formed character ends, validity checks.
// Torch-free, allocation-free, never reads outside the given view.
#pragma once

#include <cstddef>
#include <string_view>

namespace headscope::utf8 {

// Length (1..4) of the well-formed UTF-8 sequence that starts at s[pos], or 0 when the bytes
// there do not form one: a stray continuation byte, an overlong form, a surrogate (U+D800..
// U+DFFF), a value above U+10FFFF, a lead byte 0xC0/0xC1/0xF5..0xFF, or a sequence cut short by
// the end of `s`. Requires pos < s.size().
std::size_t sequence_length(std::string_view s, std::size_t pos) noexcept;

// True when every byte of `s` belongs to a well-formed UTF-8 sequence (RFC 3629).
bool is_valid(std::string_view s) noexcept;

}  // namespace headscope::utf8
