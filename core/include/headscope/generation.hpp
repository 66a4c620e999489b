// Text generation by repeated forward passes (greedy or temperature sampling).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "headscope/hooked_transformer.hpp"

namespace headscope {

struct GenerateOptions {
    int max_tokens = 64;
    double temperature = 0.0;  // 0 = greedy (argmax, lowest id on ties)
    uint64_t seed = 0;         // sampling is deterministic for a seed
    bool stop_at_eos = true;   // stop after the model's EOS (or a BOS, which llama2.c uses as a delimiter)
};

// prompt: token ids (must be non-empty: start from BOS for an empty prompt). Returns only the
// new tokens. on_token is called for each new token as it is chosen (for streaming output).
std::vector<int32_t> generate(HookedTransformer& model, const std::vector<int32_t>& prompt,
                              const GenerateOptions& options, const std::function<void(int32_t)>& on_token = {});

}  // namespace headscope
