// The sequences of TransformerLens' induction test, shared by head_detectors and the analyses
// that pick induction heads (corpus_influence).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>

#include "headscope/hooked_transformer.hpp"
#include "headscope/tokenizer.hpp"

namespace headscope::detectors {

// [batch, 1 + 2R] (or [batch, 2R] without a BOS token): BOS, R tokens drawn without repetition
// from the vocabulary minus BOS/EOS (with repetition when it is smaller than R), the same R.
// trained_only: draw only tokens whose embedding row has at least half the norm of the
// 99th-percentile row (rows a model never trained are left out). `who` names the caller in
// errors (e.g. a too-long sequence for learned positions).
at::Tensor random_repeated_tokens(const HookedTransformer& model, const Tokenizer& tokenizer, int64_t R, int64_t B,
                                  uint64_t seed, bool trained_only, const std::string& who);

}  // namespace headscope::detectors
