#include <torch/torch.h>

#include "model/rotary.hpp"

namespace headscope {

RotaryTables make_rotary_tables(const ModelConfig& c, int64_t positions, at::ScalarType dtype, c10::Device device) {
    const int64_t half = c.rotary_dim / 2;
    auto opts = torch::TensorOptions().dtype(torch::kFloat64);
    torch::Tensor i = torch::arange(half, opts);
    torch::Tensor inv_freq = torch::pow(c.rope_theta, -2.0 * i / static_cast<double>(c.rotary_dim));
    torch::Tensor pos = torch::arange(positions, opts);
    torch::Tensor angles = torch::outer(pos, inv_freq);
    return RotaryTables{angles.cos().to(device, dtype), angles.sin().to(device, dtype)};
}

void ensure_rotary_tables(RotaryTables& t, int64_t positions, const ModelConfig& c, at::ScalarType dtype,
                          c10::Device device) {
    const int64_t have = t.cos.defined() ? t.cos.size(0) : 0;
    if (positions <= have) return;
    const int64_t grow = std::min<int64_t>(std::max<int64_t>({positions, 2 * have, 64}), std::max<int64_t>(c.n_ctx, positions));
    t = make_rotary_tables(c, grow, dtype, device);
}

at::Tensor apply_rotary(const at::Tensor& x, const RotaryTables& t, const ModelConfig& c) {
    const int64_t T = x.size(1), rd = c.rotary_dim, half = rd / 2, dh = x.size(3);
    if (!t.cos.defined() || T > t.cos.size(0))
        throw std::out_of_range("sequence of " + std::to_string(T) + " positions exceeds the rotary table");
    torch::Tensor cos = t.cos.narrow(0, 0, T).view({1, T, 1, half});
    torch::Tensor sin = t.sin.narrow(0, 0, T).view({1, T, 1, half});
    torch::Tensor rot = rd == dh ? x : x.narrow(3, 0, rd);
    torch::Tensor out;
    if (c.rotary_style == RotaryStyle::interleaved) {
        torch::Tensor pairs = rot.unflatten(3, {half, 2});
        torch::Tensor x0 = pairs.select(4, 0), x1 = pairs.select(4, 1);
        out = torch::stack({x0 * cos - x1 * sin, x0 * sin + x1 * cos}, 4).flatten(3);
    } else {
        torch::Tensor x1 = rot.narrow(3, 0, half), x2 = rot.narrow(3, half, half);
        out = torch::cat({x1 * cos - x2 * sin, x2 * cos + x1 * sin}, 3);
    }
    if (rd == dh) return out;
    return torch::cat({out, x.narrow(3, rd, dh - rd)}, 3);
}

}  // namespace headscope
