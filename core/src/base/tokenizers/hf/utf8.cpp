#include "tokenizers/hf/utf8.hpp"

namespace headscope::hf_tok {

Utf8Char next_utf8_char(std::string_view text, size_t pos) {
    const auto byte = [&](size_t i) { return static_cast<uint8_t>(text[i]); };
    const size_t left = text.size() - pos;
    const uint8_t b0 = byte(pos);
    if (b0 < 0x80) return {b0, 1};

    size_t need = 0;
    uint32_t cp = 0;
    uint32_t min_cp = 0;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        need = 1, cp = b0 & 0x1Fu, min_cp = 0x80;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        need = 2, cp = b0 & 0x0Fu, min_cp = 0x800;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        need = 3, cp = b0 & 0x07u, min_cp = 0x10000;
    } else {
        return {kInvalidCodePoint, 1};
    }
    if (left <= need) return {kInvalidCodePoint, 1};
    for (size_t i = 1; i <= need; ++i) {
        const uint8_t b = byte(pos + i);
        if ((b & 0xC0u) != 0x80u) return {kInvalidCodePoint, 1};
        cp = (cp << 6) | (b & 0x3Fu);
    }
    if (cp < min_cp || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        return {kInvalidCodePoint, 1};
    }
    return {static_cast<int32_t>(cp), need + 1};
}

void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

bool is_valid_utf8(std::string_view text) {
    for (size_t pos = 0; pos < text.size();) {
        const Utf8Char c = next_utf8_char(text, pos);
        if (c.code_point == kInvalidCodePoint) return false;
        pos += c.length;
    }
    return true;
}

}  // namespace headscope::hf_tok
