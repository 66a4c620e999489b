#include "attention_sinks/sink_statistics.hpp"

#include <algorithm>

namespace headscope::sinks {

torch::Tensor key_shares(const torch::Tensor& patterns) {
    const int64_t T = patterns.size(-1);
    // strictly_after[q, k] = q > k
    torch::Tensor after = torch::ones({T, T}, torch::kDouble).tril(-1);
    torch::Tensor summed = (patterns * after).sum(-2);  // [L, H, T]: Σ_{q > k} P[q, k]
    torch::Tensor count = after.sum(0);                 // [T]: T − 1 − k
    return torch::where(count > 0, summed / count.clamp_min(1.0), torch::zeros_like(summed));
}

torch::Tensor mass_received(const torch::Tensor& patterns) {
    const int64_t T = patterns.size(-1);
    return patterns.sum(-2).mean(0).mean(0) / static_cast<double>(T);
}

torch::Tensor query_support(const torch::Tensor& patterns, double threshold) {
    const int64_t T = patterns.size(-1);
    torch::Tensor after = torch::ones({T, T}, torch::kDouble).tril(-1);  // [q, k] = q > k
    torch::Tensor held = ((patterns >= threshold).to(torch::kDouble) * after).sum(-2);  // [L, H, T]
    return held / static_cast<double>(std::max<int64_t>(1, T - 1));
}

std::vector<SecondarySink> find_secondary_sinks(const torch::Tensor& shares, const torch::Tensor& support,
                                                double threshold, double min_query_share, int first_layer,
                                                int last_layer, int min_heads) {
    const int64_t L = shares.size(0), H = shares.size(1), T = shares.size(2);
    std::vector<SecondarySink> out;
    const auto a = shares.accessor<double, 3>();
    const auto held = support.accessor<double, 3>();
    for (int64_t k = 1; k < T; ++k) {
        SecondarySink s;
        s.position = k;
        for (int64_t l = std::max<int64_t>(0, first_layer); l <= std::min<int64_t>(L - 1, last_layer); ++l)
            for (int64_t h = 0; h < H; ++h)
                if (a[l][h][k] >= threshold && held[l][h][k] >= min_query_share) {
                    s.slots.push_back(static_cast<int>(l * H + h));
                    s.shares.push_back(a[l][h][k]);
                }
        if (!s.slots.empty() && static_cast<int>(s.slots.size()) >= min_heads) out.push_back(std::move(s));
    }
    return out;
}

std::vector<MassiveActivation> massive_activations(const std::vector<torch::Tensor>& resid_post,
                                                   const std::vector<int64_t>& positions, double min_ratio,
                                                   double* largest_elsewhere) {
    std::vector<MassiveActivation> out;
    double elsewhere = 0;
    for (size_t l = 0; l < resid_post.size(); ++l) {
        torch::Tensor x = resid_post[l].to(torch::kDouble);  // [T, d]
        torch::Tensor mag = x.abs();
        const double median = std::max(mag.flatten().median().item<double>(), 1e-30);
        torch::Tensor ratio = mag / median;
        std::vector<bool> is_sink(static_cast<size_t>(x.size(0)), false);
        for (int64_t p : positions) {
            if (p < 0 || p >= x.size(0)) continue;
            is_sink[static_cast<size_t>(p)] = true;
            torch::Tensor row = ratio[p];
            torch::Tensor dims = (row >= min_ratio).nonzero().flatten();
            for (int64_t i = 0; i < dims.size(0); ++i) {
                const int64_t d = dims[i].item<int64_t>();
                out.push_back({static_cast<int>(l), p, d, x[p][d].item<double>(), row[d].item<double>()});
            }
        }
        for (int64_t p = 0; p < x.size(0); ++p)
            if (!is_sink[static_cast<size_t>(p)]) elsewhere = std::max(elsewhere, ratio[p].max().item<double>());
    }
    std::sort(out.begin(), out.end(), [](const MassiveActivation& a, const MassiveActivation& b) { return a.ratio > b.ratio; });
    if (largest_elsewhere) *largest_elsewhere = elsewhere;
    return out;
}

}  // namespace headscope::sinks
