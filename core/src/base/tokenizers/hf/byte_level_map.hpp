// GPT-2's reversible byte <-> unicode map ("bytes_to_unicode"): every byte gets a printable
// character, so byte-level BPE vocabularies can be stored as text. Printable Latin-1 bytes
// ('!'..'~', '¡'..'¬', '®'..'ÿ') stand for themselves; the other 68 bytes take U+0100 onwards
// in byte order (so ' ' -> 'Ġ' U+0120, '\n' -> 'Ċ' U+010A).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace headscope::hf_tok {

// The UTF-8 text of the character that stands for `byte`.
const std::string& byte_to_unicode(uint8_t byte);

// The byte a code point stands for, or nullopt when it is not one of the 256 map characters.
std::optional<uint8_t> unicode_to_byte(uint32_t code_point);

}  // namespace headscope::hf_tok
