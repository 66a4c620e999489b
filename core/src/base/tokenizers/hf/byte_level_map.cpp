#include "tokenizers/hf/byte_level_map.hpp"

#include <array>

#include "tokenizers/hf/utf8.hpp"

namespace headscope::hf_tok {
namespace {

struct ByteLevelTables {
    std::array<std::string, 256> byte_text;
    std::array<int16_t, 512> code_point_byte;  // -1: not a map character; all map chars < 512

    ByteLevelTables() {
        code_point_byte.fill(-1);
        const auto stands_for_itself = [](int b) {
            return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        };
        uint32_t next_extra = 256;
        for (int b = 0; b < 256; ++b) {
            const uint32_t cp = stands_for_itself(b) ? static_cast<uint32_t>(b) : next_extra++;
            append_utf8(byte_text[static_cast<size_t>(b)], cp);
            code_point_byte[cp] = static_cast<int16_t>(b);
        }
    }
};

const ByteLevelTables& tables() {
    static const ByteLevelTables instance;
    return instance;
}

}  // namespace

const std::string& byte_to_unicode(uint8_t byte) { return tables().byte_text[byte]; }

std::optional<uint8_t> unicode_to_byte(uint32_t code_point) {
    if (code_point >= tables().code_point_byte.size()) return std::nullopt;
    const int16_t b = tables().code_point_byte[code_point];
    if (b < 0) return std::nullopt;
    return static_cast<uint8_t>(b);
}

}  // namespace headscope::hf_tok
