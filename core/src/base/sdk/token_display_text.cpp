#include <fmt/format.h>

#include "headscope/sdk/result_helpers.hpp"

namespace headscope {

namespace {

bool valid_utf8(const std::string& s) {
    size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        const size_t extra = c < 0x80 ? 0 : (c >> 5) == 0x6 ? 1 : (c >> 4) == 0xE ? 2 : (c >> 3) == 0x1E ? 3 : 99;
        if (extra == 99 || extra >= s.size() - i) return false;
        for (size_t k = 1; k <= extra; ++k)
            if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return false;
        i += extra + 1;
    }
    return true;
}

}  // namespace

std::string token_display_text(const Tokenizer& tokenizer, int64_t id) {
    if (id < 0 || id >= tokenizer.vocab_size()) return fmt::format("#{}", id);
    const auto i = static_cast<int32_t>(id);
    std::string text = tokenizer.token_text(i);
    if (text.empty() || !valid_utf8(text)) text = tokenizer.piece(i);
    if (!valid_utf8(text)) return fmt::format("#{}", id);
    std::string out;
    for (char ch : text) {
        switch (ch) {
            case '\n': out += "\\n"; break;
            case '\t': out += "\\t"; break;
            case '\r': out += "\\r"; break;
            default:
                if (static_cast<unsigned char>(ch) < 0x20)
                    out += fmt::format("\\x{:02x}", static_cast<unsigned char>(ch));
                else
                    out += ch;
        }
    }
    return out;
}

}  // namespace headscope
