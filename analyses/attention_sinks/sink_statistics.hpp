// The arithmetic of attention_sinks, on one prompt's patterns and residual stream.
//
// Share of a key: for head (l, h) and key position k, the mean over the queries that come
// strictly after k of the attention they give to k:  share(k) = mean_{q > k} P[q, k].
// The query k itself is left out (a token attending to itself is not a sink) and so are the
// queries before k (they cannot see it). The first position is always attended by itself only
// at q = 0, which is therefore excluded from its share too.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

namespace headscope::sinks {

// patterns: [L, H, T, T] float64. Returns [L, H, T]: share(k) for every key, 0 where no query
// follows the key.
torch::Tensor key_shares(const torch::Tensor& patterns);

// Share of all attention mass each key receives, averaged over every head and query:
// (1 / (L·H·T)) Σ_{l,h,q} P[l, h, q, k]. Sums to 1 over the keys. [T].
torch::Tensor mass_received(const torch::Tensor& patterns);

struct SecondarySink {
    int64_t position = 0;
    std::vector<int> slots;      // heads (layer * H + head) giving it share >= threshold
    std::vector<double> shares;  // their shares
};

// Keys after the first that at least `min_heads` heads of layers [first_layer, last_layer] give a
// share >= threshold, scored only when at least `min_queries` queries follow the key (a
// previous-token head gives every key share 1 / (queries after it), so keys near the end would
// otherwise look like sinks).
std::vector<SecondarySink> find_secondary_sinks(const torch::Tensor& shares, double threshold, int64_t min_queries,
                                                int first_layer, int last_layer, int min_heads);

struct MassiveActivation {
    int layer = 0;
    int64_t position = 0;
    int64_t dim = 0;
    double value = 0;
    double ratio = 0;  // |value| / median |activation| of that layer's residual stream (all positions, dims)
};

// resid_post: per layer [T, d_model]. Every (layer, position in `positions`, dim) with
// |value| / median >= min_ratio, plus `largest_elsewhere`: the largest ratio at any other position.
std::vector<MassiveActivation> massive_activations(const std::vector<torch::Tensor>& resid_post,
                                                   const std::vector<int64_t>& positions, double min_ratio,
                                                   double* largest_elsewhere);

}  // namespace headscope::sinks
