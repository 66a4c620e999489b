// Rank agreement between two score vectors: Spearman's ρ, Kendall's τ-b and top-k overlap.
// Plain C++ (no LibTorch), O(n²) Kendall: head grids have at most a few thousand cells.
#pragma once

#include <cstddef>
#include <vector>

namespace headscope::agreement {

// Ranks 1..n, ties sharing their average rank.
std::vector<double> average_ranks(const std::vector<double>& v);
// Pearson correlation of the average ranks; NaN when either vector is constant.
double spearman(const std::vector<double>& a, const std::vector<double>& b);
// τ-b = (concordant − discordant) / sqrt((n0 − ties_a)(n0 − ties_b)); NaN when either is constant.
double kendall_tau_b(const std::vector<double>& a, const std::vector<double>& b);
// |top_k(a) ∩ top_k(b)| / k, the k largest values of each (ties broken by the lower index).
double top_k_overlap(const std::vector<double>& a, const std::vector<double>& b, size_t k);

}  // namespace headscope::agreement
