// Second-moment spectra of key/value activations and weights for kv_low_rank: energy curves,
// the rank reaching a share of the energy, and rank-r projectors.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace headscope::kv {

// Eigen-decomposition of an accumulated Gram XᵀX [..., n, n]: eigenvalues descending, clamped
// at 0, and the matching eigenvectors as columns.
struct Spectrum {
    at::Tensor values;   // [..., n]
    at::Tensor vectors;  // [..., n, n]
};
Spectrum gram_spectrum(const at::Tensor& gram);

// Cumulative share of the energy (Σλ) in the first i+1 components: [..., n], last entry 1
// (0 everywhere for a zero spectrum).
at::Tensor energy_curve(const at::Tensor& values);
// Fewest components whose cumulative energy reaches `share` (int64 [...]); 0 for a zero spectrum.
at::Tensor rank_for_energy(const at::Tensor& values, double share);
// Components above `relative` × the largest (int64 [...]): the numerical rank.
at::Tensor numerical_rank(const at::Tensor& values, double relative = 1e-9);
// Projector onto the top-r eigenvectors, V_r·V_rᵀ [..., n, n] (the identity for r >= n).
at::Tensor top_projector(const Spectrum& s, int64_t r);

}  // namespace headscope::kv
