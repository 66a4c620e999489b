// SentencePiece byte-fallback pieces: "<0x0A>" stands for the raw byte 0x0A.
#pragma once

#include <string>
#include <string_view>

namespace headscope::spm {

// The byte value (0..255) a piece of the exact form "<0xXX>" (two hex digits, either case)
// stands for, or -1 for any other piece.
int parse_byte_piece(std::string_view piece) noexcept;

// "<0xXX>" with upper-case hex digits, as SentencePiece and llama2.c name byte pieces.
std::string byte_piece_name(unsigned char byte);

}  // namespace headscope::spm
