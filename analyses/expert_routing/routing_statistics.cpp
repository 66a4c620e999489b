#include "expert_routing/routing_statistics.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace headscope::expert_routing {

namespace {
void require(bool ok, const std::string& what) {
    if (!ok) throw std::invalid_argument("expert routing: " + what);
}

double entropy(const std::vector<double>& p) {
    double h = 0;
    for (double x : p)
        if (x > 0) h -= x * std::log(x);
    return h;
}

std::vector<double> normalised(std::vector<double> v) {
    double total = 0;
    for (double x : v) total += x;
    if (total > 0)
        for (double& x : v) x /= total;
    return v;
}

// Entropy of softmax(logits) computed stably: H = log Σ e^{z - m} - Σ p (z - m).
double softmax_entropy(const float* z, int n) {
    const double m = *std::max_element(z, z + n);
    double sum = 0;
    for (int i = 0; i < n; ++i) sum += std::exp(z[i] - m);
    double h = std::log(sum);
    for (int i = 0; i < n; ++i) h -= std::exp(z[i] - m) / sum * (z[i] - m);
    return h;
}
}  // namespace

LayerStatistics routing_statistics(const LayerRouting& r, int max_tokens_per_expert) {
    require(r.n_experts > 0 && r.top_k > 0 && r.top_k <= r.n_experts,
            "top_k " + std::to_string(r.top_k) + " of " + std::to_string(r.n_experts) + " experts");
    const size_t E = static_cast<size_t>(r.n_experts), k = static_cast<size_t>(r.top_k);
    require(r.indices.size() % k == 0 && r.weights.size() == r.indices.size(),
            "indices and weights must both hold N * top_k values");
    const size_t N = r.indices.size() / k;
    require(r.router_logits.empty() || r.router_logits.size() == N * E, "router_logits must hold N * n_experts values");
    require(r.expert_out_norms.empty() || r.expert_out_norms.size() == N * k,
            "expert_out_norms must hold N * top_k values");

    std::vector<double> count(E, 0), weight(E, 0), output(E, 0);
    std::vector<std::vector<TokenWeight>> routed(E);
    for (size_t n = 0; n < N; ++n) {
        for (size_t j = 0; j < k; ++j) {
            const int64_t e = r.indices[n * k + j];
            require(e >= 0 && e < r.n_experts, "expert index " + std::to_string(e) + " at position " +
                                                   std::to_string(n) + " is outside 0.." +
                                                   std::to_string(r.n_experts - 1));
            const float w = r.weights[n * k + j];
            count[static_cast<size_t>(e)] += 1;
            weight[static_cast<size_t>(e)] += w;
            if (!r.expert_out_norms.empty())
                output[static_cast<size_t>(e)] += std::fabs(w) * r.expert_out_norms[n * k + j];
            routed[static_cast<size_t>(e)].push_back({static_cast<int64_t>(n), w});
        }
    }

    LayerStatistics s;
    s.frequency = normalised(count);
    s.weight_share = normalised(weight);
    if (!r.expert_out_norms.empty()) s.output_share = normalised(output);
    s.load_entropy = entropy(s.frequency);
    if (!r.router_logits.empty() && N > 0) {
        double total = 0;
        for (size_t n = 0; n < N; ++n) total += softmax_entropy(r.router_logits.data() + n * E, r.n_experts);
        s.mean_entropy = total / static_cast<double>(N);
    }
    const size_t keep = static_cast<size_t>(std::max(0, max_tokens_per_expert));
    for (auto& list : routed) {
        std::stable_sort(list.begin(), list.end(),
                         [](const TokenWeight& a, const TokenWeight& b) { return a.weight > b.weight; });
        if (list.size() > keep) list.resize(keep);
    }
    s.top_tokens = std::move(routed);
    return s;
}

}  // namespace headscope::expert_routing
