#include "qk_ov_svd/token_directions.hpp"

#include <torch/torch.h>

#include <fmt/format.h>

namespace headscope::qk_ov {

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

std::string escape(const std::string& text) {
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

}  // namespace

std::string token_label(const Tokenizer& tokenizer, int64_t id) {
    if (id < 0 || id >= tokenizer.vocab_size()) return fmt::format("#{}", id);
    const auto i = static_cast<int32_t>(id);
    std::string text = tokenizer.token_text(i);
    if (text.empty() || !valid_utf8(text)) text = tokenizer.piece(i);
    if (!valid_utf8(text)) return fmt::format("#{}", id);
    return "'" + escape(text) + "'";
}

std::vector<std::string> top_tokens(const Tokenizer& tokenizer, const at::Tensor& projections, int64_t count) {
    const int64_t k = std::min<int64_t>(count, projections.size(0));
    const at::Tensor idx = std::get<1>(projections.topk(k, 0)).to(at::kLong).cpu().contiguous();  // [k, n]
    const auto* p = idx.data_ptr<int64_t>();
    const int64_t n = idx.size(1);
    std::vector<std::string> out(static_cast<size_t>(n));
    for (int64_t j = 0; j < n; ++j)
        for (int64_t r = 0; r < k; ++r) {
            if (r) out[static_cast<size_t>(j)] += " | ";
            out[static_cast<size_t>(j)] += token_label(tokenizer, p[r * n + j]);
        }
    return out;
}

at::Tensor sign_by_strongest(const at::Tensor& projections) {
    const at::Tensor idx = projections.abs().argmax(0, /*keepdim=*/true);  // [1, n]
    const at::Tensor strongest = projections.gather(0, idx).squeeze(0);
    return at::where(strongest < 0, -at::ones_like(strongest), at::ones_like(strongest));
}

}  // namespace headscope::qk_ov
