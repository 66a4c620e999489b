#include "tokenizers/byte_piece.hpp"

namespace headscope::spm {

namespace {
int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}
}  // namespace

int parse_byte_piece(std::string_view piece) noexcept {
    if (piece.size() != 6 || piece.substr(0, 3) != "<0x" || piece[5] != '>') return -1;
    const int hi = hex_value(piece[3]), lo = hex_value(piece[4]);
    if (hi < 0 || lo < 0) return -1;
    return hi * 16 + lo;
}

std::string byte_piece_name(unsigned char byte) {
    static constexpr char digits[] = "0123456789ABCDEF";
    return std::string{'<', '0', 'x', digits[byte >> 4], digits[byte & 0x0F], '>'};
}

}  // namespace headscope::spm
