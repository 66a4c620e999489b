#include "kv_low_rank/kv_spectra.hpp"

#include <torch/torch.h>

#include <algorithm>

namespace headscope::kv {

Spectrum gram_spectrum(const at::Tensor& gram) {
    const at::Tensor sym = (gram + gram.transpose(-1, -2)) / 2;
    auto [values, vectors] = at::linalg_eigh(sym);  // ascending
    return {values.flip(-1).clamp_min(0), vectors.flip(-1)};
}

at::Tensor energy_curve(const at::Tensor& values) {
    const at::Tensor total = values.sum(-1, /*keepdim=*/true);
    return at::where(total > 0, values.cumsum(-1) / total.clamp_min(1e-300), at::zeros_like(values));
}

at::Tensor rank_for_energy(const at::Tensor& values, double share) {
    const at::Tensor curve = energy_curve(values);
    const at::Tensor below = (curve < share - 1e-12).sum(-1);
    const at::Tensor zero = values.sum(-1) <= 0;
    return at::where(zero, at::zeros_like(below), (below + 1).clamp_max(values.size(-1)));
}

at::Tensor numerical_rank(const at::Tensor& values, double relative) {
    const at::Tensor top = std::get<0>(values.max(-1, /*keepdim=*/true));
    return (values > top * relative).logical_and(values > 0).sum(-1);
}

at::Tensor top_projector(const Spectrum& s, int64_t r) {
    const int64_t n = s.vectors.size(-1);
    const at::Tensor V = s.vectors.narrow(-1, 0, std::min(r, n));
    return at::matmul(V, V.transpose(-1, -2));
}

}  // namespace headscope::kv
