// The arithmetic of the expert_routing analysis, torch-free so it is tested alone: from one
// layer's routing (blocks.L.mlp.hook_router_logits [B,T,E], hook_expert_weights [B,T,k] with
// the chosen indices, and optionally the norms of hook_expert_out [B,T,k,d_model]) it computes
//   frequency[e]     share of the N*k (token, slot) choices that picked expert e (sums to 1);
//   weight_share[e]  share of the total routing weight given to e;
//   output_share[e]  share of Σ_tokens Σ_slots w·‖expert_out‖ that e carries (the part of the
//                    MLP output's size each expert is responsible for); empty without norms;
//   mean_entropy     mean over tokens of the entropy (nats) of softmax(router logits);
//   load_entropy     entropy of `frequency` (ln E when load is perfectly balanced);
//   top_tokens[e]    the positions routed to e with the largest weight, best first.
#pragma once

#include <cstdint>
#include <vector>

namespace headscope::expert_routing {

struct LayerRouting {
    int n_experts = 0;
    int top_k = 0;
    std::vector<int64_t> indices;          // [N, k] row-major: expert chosen in each slot
    std::vector<float> weights;            // [N, k]
    std::vector<float> router_logits;      // [N, E]; may be empty (then mean_entropy is 0)
    std::vector<float> expert_out_norms;   // [N, k] ‖expert output‖ per slot; may be empty
};

struct TokenWeight {
    int64_t position;  // row of the routing arrays (b * T + t)
    float weight;
};

struct LayerStatistics {
    std::vector<double> frequency;
    std::vector<double> weight_share;
    std::vector<double> output_share;  // empty when no norms were given
    double mean_entropy = 0;
    double load_entropy = 0;
    std::vector<std::vector<TokenWeight>> top_tokens;  // [E][<= max_tokens]
};

// Throws std::invalid_argument when the arrays disagree in size or an index is outside 0..E-1.
LayerStatistics routing_statistics(const LayerRouting& routing, int max_tokens_per_expert);

}  // namespace headscope::expert_routing
