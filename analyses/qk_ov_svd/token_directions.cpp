#include "qk_ov_svd/token_directions.hpp"

#include <torch/torch.h>

#include "headscope/sdk/result_helpers.hpp"

namespace headscope::qk_ov {

std::string token_label(const Tokenizer& tokenizer, int64_t id) {
    return "'" + token_display_text(tokenizer, id) + "'";
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
