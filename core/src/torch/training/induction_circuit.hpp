// Measures the induction circuit of a model on BOS + seg + seg sequences of random tokens
// (for the README of induction-2l).
#pragma once

#include <cstdint>
#include <vector>

#include "headscope/hooked_transformer.hpp"

namespace headscope::training {

struct InductionCircuit {
    double repeat_accuracy = 0.0;  // next-token top-1 over the second occurrence
    // Mean attention, per head of the last layer, from each token of the second occurrence to
    // the token after its first occurrence.
    std::vector<double> induction_attention;
    // Per head of the previous layer: mean attention to the immediately preceding token.
    std::vector<double> previous_token_attention;
    int best_head = -1;                // argmax of induction_attention
    double ablated_accuracy = 0.0;     // repeat accuracy with best_head's hook_z zeroed
};

InductionCircuit measure_induction_circuit(HookedTransformer& model, const std::vector<int32_t>& pool, int32_t bos,
                                           uint64_t seed, int64_t batch = 64, int64_t segment = 20);

}  // namespace headscope::training
