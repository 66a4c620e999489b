// Jensen–Shannon similarity of attention patterns and average-linkage clustering.
#pragma once

#include <torch/torch.h>

#include <vector>

namespace headscope::similarity {

// patterns: [N, T, T] float64 (N heads, rows = queries). Returns [N, N]: 1 − JSD (base-2 logs,
// so in [0, 1]) between the heads' attention distributions, averaged over the queries 1..T−1
// (query 0 can only attend to itself and is identical for every head). T must be >= 2.
torch::Tensor js_similarity(const torch::Tensor& patterns);

// One merge of an agglomerative clustering, in scipy.cluster.hierarchy.linkage's convention:
// leaves are 0..N−1, the cluster made by merge i is N + i.
struct Merge {
    int a = 0;
    int b = 0;
    double distance = 0;
    int size = 0;
};

// UPGMA (average linkage) on a symmetric distance matrix [N, N]; N − 1 merges, in order. Ties are
// broken by the smallest (a, b) pair of current cluster ids.
std::vector<Merge> average_linkage(const torch::Tensor& distance);

// Leaves in dendrogram order (depth first from the last merge, a before b).
std::vector<int> leaf_order(const std::vector<Merge>& merges, int n);

// Flat clusters: leaves joined by merges at distance <= cut share a label (0, 1, ... in order of
// their first leaf).
std::vector<int> cut_clusters(const std::vector<Merge>& merges, int n, double cut);

}  // namespace headscope::similarity
