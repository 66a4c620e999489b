#include <fmt/format.h>

#include "headscope/sdk/result_helpers.hpp"
#include "tokenizers/utf8.hpp"

namespace headscope {

std::string token_label_text(const Tokenizer& tokenizer, int64_t id) {
    if (id < 0 || id >= tokenizer.vocab_size()) return fmt::format("#{}", id);
    std::string text = tokenizer.token_text(static_cast<int32_t>(id));
    return text.empty() ? tokenizer.piece(static_cast<int32_t>(id)) : text;
}

std::string token_display_text(const Tokenizer& tokenizer, int64_t id) {
    if (id < 0 || id >= tokenizer.vocab_size()) return fmt::format("#{}", id);
    const auto i = static_cast<int32_t>(id);
    std::string text = tokenizer.token_text(i);
    if (text.empty() || !utf8::is_valid(text)) text = tokenizer.piece(i);
    if (!utf8::is_valid(text)) return fmt::format("#{}", id);
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
