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

// Query support of a key: for head (l, h) and key k, the share of the prompt's T - 1 queries
// (every position but the first) that give k at least `threshold`:
//   support(k) = #{q > k : P[q, k] >= threshold} / (T - 1).
// A key near the end is followed by few queries, so its mean share can be high from recency
// alone; its support cannot exceed (T - 1 - k) / (T - 1). patterns [L, H, T, T] -> [L, H, T].
torch::Tensor query_support(const torch::Tensor& patterns, double threshold);

// Keys after the first that at least `min_heads` heads of layers [first_layer, last_layer] use as
// a sink: a share >= threshold held by queries that make up at least `min_query_share` of the
// prompt's queries (support >= min_query_share).
std::vector<SecondarySink> find_secondary_sinks(const torch::Tensor& shares, const torch::Tensor& support,
                                                double threshold, double min_query_share, int first_layer,
                                                int last_layer, int min_heads);

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
