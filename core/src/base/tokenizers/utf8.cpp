#include "tokenizers/utf8.hpp"

namespace headscope::utf8 {

namespace {
bool is_continuation(unsigned char c) noexcept { return (c & 0xC0) == 0x80; }
}  // namespace

std::size_t sequence_length(std::string_view s, std::size_t pos) noexcept {
    const std::size_t left = s.size() - pos;
    const auto c0 = static_cast<unsigned char>(s[pos]);
    if (c0 < 0x80) return 1;
    // The ranges of the second byte follow the Unicode Standard, table 3-7 (well-formed UTF-8
    // byte sequences): they rule out overlong forms, surrogates and values past U+10FFFF.
    unsigned char lo = 0x80, hi = 0xBF;
    std::size_t length = 0;
    if (c0 >= 0xC2 && c0 <= 0xDF) {
        length = 2;
    } else if (c0 >= 0xE0 && c0 <= 0xEF) {
        length = 3;
        if (c0 == 0xE0) lo = 0xA0;
        if (c0 == 0xED) hi = 0x9F;
    } else if (c0 >= 0xF0 && c0 <= 0xF4) {
        length = 4;
        if (c0 == 0xF0) lo = 0x90;
        if (c0 == 0xF4) hi = 0x8F;
    } else {
        return 0;
    }
    if (left < length) return 0;
    const auto c1 = static_cast<unsigned char>(s[pos + 1]);
    if (c1 < lo || c1 > hi) return 0;
    for (std::size_t i = 2; i < length; ++i)
        if (!is_continuation(static_cast<unsigned char>(s[pos + i]))) return 0;
    return length;
}

Char decode_at(std::string_view s, std::size_t pos) noexcept {
    const std::size_t n = sequence_length(s, pos);
    if (n == 0) return {0xFFFD, 1, false};
    static constexpr unsigned char kLeadMask[] = {0, 0x7F, 0x1F, 0x0F, 0x07};
    char32_t cp = static_cast<unsigned char>(s[pos]) & kLeadMask[n];
    for (std::size_t i = 1; i < n; ++i) cp = (cp << 6) | (static_cast<unsigned char>(s[pos + i]) & 0x3F);
    return {cp, n, true};
}

std::vector<char32_t> decode(std::string_view s) {
    std::vector<char32_t> out;
    out.reserve(s.size());
    for (std::size_t pos = 0; pos < s.size();) {
        const Char c = decode_at(s, pos);
        out.push_back(c.code_point);
        pos += c.length;
    }
    return out;
}

void append(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

bool is_valid(std::string_view s) noexcept {
    for (std::size_t pos = 0; pos < s.size();) {
        const std::size_t n = sequence_length(s, pos);
        if (n == 0) return false;
        pos += n;
    }
    return true;
}

}  // namespace headscope::utf8
