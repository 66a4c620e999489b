// The tokens a singular direction of a circuit reads from or writes to: the direction projected
// through the embedding (reads) or the unembedding (writes), strongest tokens first.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "headscope/tokenizer.hpp"

namespace headscope::qk_ov {

// token_display_text in quotes ("'the'", "'\n'", "'#512'" when the token has no printable text).
std::string token_label(const Tokenizer& tokenizer, int64_t id);

// `projections` [V, n]: column j scores every token for direction j. Returns, per column, the
// labels of its `count` highest-scoring tokens joined by " | ".
std::vector<std::string> top_tokens(const Tokenizer& tokenizer, const at::Tensor& projections, int64_t count);

// Singular vectors have a sign ambiguity (u, v) ~ (−u, −v). Returns +1/−1 per column of
// `projections` [V, n] so that each column's largest-magnitude entry becomes positive.
at::Tensor sign_by_strongest(const at::Tensor& projections);

}  // namespace headscope::qk_ov
