// Attention-pattern scores of the classic head detectors, for a batch of token sequences and one
// layer's patterns. Defined for any token sequence (repeats anywhere):
//   previous-token: attention from query q to key q−1, averaged over q ≥ 1;
//   duplicate-token: attention from q to earlier positions holding the same token, averaged
//     over the queries whose token occurred before;
//   induction: attention from q to the positions right after earlier occurrences of q's token
//     (p + 1 for every p < q with token[p] = token[q]), averaged over the same queries.
// On BOS + R distinct random tokens + the same R tokens, duplicate-token is the attention from
// each second-half position to R back, induction to R − 1 back (TransformerLens' definitions).
#pragma once

#include <ATen/core/Tensor.h>

namespace headscope::detectors {

struct PatternScores {
    at::Tensor sum;    // [3, H] summed attention (previous, duplicate, induction)
    at::Tensor count;  // [3] number of (sequence, query) pairs that entered each sum
};

enum : int { kPrevious = 0, kDuplicate = 1, kInduction = 2 };

// tokens [B, T] integer ids, pattern [B, H, T, T] (query, key). Sums in float64 on the CPU.
PatternScores pattern_scores(const at::Tensor& tokens, const at::Tensor& pattern);

}  // namespace headscope::detectors
