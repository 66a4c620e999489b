#include "head_detectors/pattern_scores.hpp"

#include <torch/torch.h>

namespace headscope::detectors {

PatternScores pattern_scores(const at::Tensor& tokens_in, const at::Tensor& pattern_in) {
    const at::Tensor tokens = tokens_in.to(at::kLong).cpu();
    const at::Tensor pattern = pattern_in.to(at::kDouble).cpu();
    const int64_t T = tokens.size(1);
    const auto opts = at::TensorOptions().dtype(at::kBool);
    // earlier[q, k]: k < q.
    const at::Tensor earlier = at::ones({T, T}, opts).tril(-1);
    const at::Tensor same = tokens.unsqueeze(2).eq(tokens.unsqueeze(1));  // [B, q, k]
    const at::Tensor duplicate = same.logical_and(earlier);
    // induction[q, k] = duplicate[q, k − 1]: the key right after an earlier occurrence.
    at::Tensor induction = at::zeros_like(duplicate);
    if (T > 1) induction.narrow(2, 1, T - 1).copy_(duplicate.narrow(2, 0, T - 1));
    const at::Tensor previous = at::ones({T, T}, opts).tril(-1).triu(-1).unsqueeze(0).expand_as(duplicate);

    const at::Tensor masks[3] = {previous, duplicate, induction};
    PatternScores out{at::zeros({3, pattern.size(1)}, at::kDouble), at::zeros({3}, at::kDouble)};
    for (int i = 0; i < 3; ++i) {
        const at::Tensor m = masks[i].to(at::kDouble);                  // [B, q, k]
        const at::Tensor valid = masks[i].any(-1).to(at::kDouble);      // [B, q]
        const at::Tensor mass = (pattern * m.unsqueeze(1)).sum(-1);     // [B, H, q]
        out.sum[i] = (mass * valid.unsqueeze(1)).sum(at::IntArrayRef{0, 2});
        out.count[i] = valid.sum();
    }
    return out;
}

}  // namespace headscope::detectors
