#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "model/rotary.hpp"

namespace headscope {

namespace {
constexpr double kPi = 3.14159265358979323846;

// theta^(-2i/dim) for i < dim/2.
torch::Tensor base_inv_freq(double theta, int64_t dim) {
    torch::Tensor i = torch::arange(dim / 2, torch::TensorOptions().dtype(torch::kFloat64));
    return torch::pow(theta, -2.0 * i / static_cast<double>(dim));
}

torch::Tensor llama3(const RopeScaling& r, const torch::Tensor& inv) {
    const double old_ctx = r.original_context;
    const double low_wavelen = old_ctx / r.low_freq_factor, high_wavelen = old_ctx / r.high_freq_factor;
    torch::Tensor wavelen = 2 * kPi / inv;
    torch::Tensor scaled = torch::where(wavelen > low_wavelen, inv / r.factor, inv);
    torch::Tensor smooth = (old_ctx / wavelen - r.low_freq_factor) / (r.high_freq_factor - r.low_freq_factor);
    torch::Tensor smoothed = (1 - smooth) * scaled / r.factor + smooth * scaled;
    torch::Tensor medium = (wavelen >= high_wavelen).logical_and(wavelen <= low_wavelen);
    return torch::where(medium, smoothed, scaled);
}

torch::Tensor yarn(const RopeScaling& r, double theta, int64_t dim) {
    auto correction_dim = [&](double rotations) {
        return dim * std::log(r.original_context / (rotations * 2 * kPi)) / (2 * std::log(theta));
    };
    double low = correction_dim(r.beta_fast), high = correction_dim(r.beta_slow);
    if (r.truncate) {
        low = std::floor(low);
        high = std::ceil(high);
    }
    low = std::max(low, 0.0);
    high = std::min(high, static_cast<double>(dim - 1));
    if (low == high) high += 0.001;
    torch::Tensor ramp = ((torch::arange(dim / 2, torch::TensorOptions().dtype(torch::kFloat64)) - low) / (high - low))
                             .clamp(0, 1);
    torch::Tensor extrapolation = base_inv_freq(theta, dim);
    torch::Tensor interpolation = extrapolation / r.factor;
    torch::Tensor extra_factor = 1 - ramp;
    return interpolation * (1 - extra_factor) + extrapolation * extra_factor;
}
}  // namespace

bool uses_local_rotary(const ModelConfig& c, int layer) { return c.rope_local_theta > 0 && c.window(layer) > 0; }

bool rotary_depends_on_length(const ModelConfig& c) {
    return c.rope_scaling.kind == RopeScalingKind::dynamic || c.rope_scaling.kind == RopeScalingKind::longrope;
}

at::Tensor rotary_inv_freq(const ModelConfig& c, bool local, int64_t seq_len) {
    const int64_t dim = c.rotary_dim;
    if (local) return base_inv_freq(c.rope_local_theta, dim);
    const RopeScaling& r = c.rope_scaling;
    switch (r.kind) {
        case RopeScalingKind::none: return base_inv_freq(c.rope_theta, dim);
        case RopeScalingKind::linear: return base_inv_freq(c.rope_theta, dim) / r.factor;
        case RopeScalingKind::dynamic: {
            const double len = std::max<double>(static_cast<double>(seq_len), r.original_context);
            const double base = c.rope_theta * std::pow(r.factor * len / r.original_context - (r.factor - 1),
                                                        static_cast<double>(dim) / (dim - 2));
            return base_inv_freq(base, dim);
        }
        case RopeScalingKind::llama3: return llama3(r, base_inv_freq(c.rope_theta, dim));
        case RopeScalingKind::yarn: return yarn(r, c.rope_theta, dim);
        case RopeScalingKind::longrope: {
            const auto& ext = seq_len > r.original_context ? r.long_factor : r.short_factor;
            return base_inv_freq(c.rope_theta, dim) / torch::tensor(ext, torch::kFloat64);
        }
        case RopeScalingKind::freq_factors:
            return base_inv_freq(c.rope_theta, dim) / torch::tensor(r.freq_factors, torch::kFloat64);
    }
    return base_inv_freq(c.rope_theta, dim);
}

RotaryTables make_rotary_tables(const ModelConfig& c, bool local, int64_t positions, at::ScalarType dtype,
                                c10::Device device) {
    torch::Tensor inv = rotary_inv_freq(c, local, positions);
    torch::Tensor pos = torch::arange(positions, torch::TensorOptions().dtype(torch::kFloat64));
    torch::Tensor angles = torch::outer(pos, inv);
    const double a = local ? 1.0 : c.rope_scaling.attention_factor;
    return RotaryTables{(angles.cos() * a).to(device, dtype), (angles.sin() * a).to(device, dtype)};
}

void ensure_rotary_tables(RotaryTables& t, int64_t positions, const ModelConfig& c, bool local, at::ScalarType dtype,
                          c10::Device device) {
    const int64_t have = t.cos.defined() ? t.cos.size(0) : 0;
    if (positions <= have) return;
    const int64_t grow = std::min<int64_t>(std::max<int64_t>({positions, 2 * have, 64}), std::max<int64_t>(c.n_ctx, positions));
    t = make_rotary_tables(c, local, grow, dtype, device);
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
