#include "head_similarity/similarity_math.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace headscope::similarity {

namespace {
// Entropy in bits along the last axis (0·log 0 = 0).
torch::Tensor entropy_bits(const torch::Tensor& p) { return -torch::xlogy(p, p).sum(-1) / std::log(2.0); }
}  // namespace

torch::Tensor js_similarity(const torch::Tensor& patterns) {
    const int64_t N = patterns.size(0), T = patterns.size(1);
    torch::Tensor P = patterns.narrow(1, 1, T - 1).clamp_min(0.0);  // [N, Q, T]
    torch::Tensor h = entropy_bits(P);                               // [N, Q]
    torch::Tensor out = torch::zeros({N, N}, torch::kDouble);
    // Pairs (a, b) for a block of b at a time, keeping the mixture tensor near 2^24 values.
    const int64_t per_head = std::max<int64_t>(1, (T - 1) * T);
    const int64_t block = std::max<int64_t>(1, std::min<int64_t>(N, (int64_t{1} << 24) / per_head));
    for (int64_t a = 0; a < N; ++a) {
        for (int64_t b0 = a; b0 < N; b0 += block) {
            const int64_t n = std::min(block, N - b0);
            torch::Tensor Pb = P.narrow(0, b0, n);
            torch::Tensor m = (P[a].unsqueeze(0) + Pb) * 0.5;                              // [n, Q, T]
            torch::Tensor jsd = entropy_bits(m) - (h[a].unsqueeze(0) + h.narrow(0, b0, n)) * 0.5;  // [n, Q]
            torch::Tensor sim = 1.0 - jsd.mean(1).clamp(0.0, 1.0);
            out[a].narrow(0, b0, n).copy_(sim);
            out.select(1, a).narrow(0, b0, n).copy_(sim);
        }
    }
    return out;
}

std::vector<Merge> average_linkage(const torch::Tensor& distance) {
    const int n = static_cast<int>(distance.size(0));
    std::vector<Merge> merges;
    if (n < 2) return merges;
    torch::Tensor dc = distance.to(torch::kDouble).contiguous();
    // d[i][j] between active clusters, indexed by slot; slot i holds cluster id ids[i].
    std::vector<std::vector<double>> d(static_cast<size_t>(n), std::vector<double>(static_cast<size_t>(n)));
    const double* src = dc.data_ptr<double>();
    for (int i = 0; i < n; ++i)
        for (int j = 0; j < n; ++j) d[static_cast<size_t>(i)][static_cast<size_t>(j)] = src[i * n + j];
    std::vector<int> ids(static_cast<size_t>(n)), sizes(static_cast<size_t>(n), 1);
    std::iota(ids.begin(), ids.end(), 0);
    std::vector<bool> active(static_cast<size_t>(n), true);
    for (int step = 0; step < n - 1; ++step) {
        double best = std::numeric_limits<double>::infinity();
        int bi = -1, bj = -1;
        for (int i = 0; i < n; ++i) {
            if (!active[static_cast<size_t>(i)]) continue;
            for (int j = i + 1; j < n; ++j) {
                if (!active[static_cast<size_t>(j)]) continue;
                const double v = d[static_cast<size_t>(i)][static_cast<size_t>(j)];
                if (v > best) continue;
                if (v == best && bi >= 0) {
                    const auto key = std::minmax(ids[static_cast<size_t>(i)], ids[static_cast<size_t>(j)]);
                    const auto best_key = std::minmax(ids[static_cast<size_t>(bi)], ids[static_cast<size_t>(bj)]);
                    if (!(key < best_key)) continue;
                }
                best = v, bi = i, bj = j;
            }
        }
        const int si = sizes[static_cast<size_t>(bi)], sj = sizes[static_cast<size_t>(bj)];
        Merge m;
        m.a = std::min(ids[static_cast<size_t>(bi)], ids[static_cast<size_t>(bj)]);
        m.b = std::max(ids[static_cast<size_t>(bi)], ids[static_cast<size_t>(bj)]);
        m.distance = best;
        m.size = si + sj;
        merges.push_back(m);
        // The merged cluster takes slot bi; distances are size-weighted means (UPGMA).
        for (int k = 0; k < n; ++k) {
            if (!active[static_cast<size_t>(k)] || k == bi || k == bj) continue;
            const double v = (si * d[static_cast<size_t>(bi)][static_cast<size_t>(k)] +
                              sj * d[static_cast<size_t>(bj)][static_cast<size_t>(k)]) /
                             (si + sj);
            d[static_cast<size_t>(bi)][static_cast<size_t>(k)] = d[static_cast<size_t>(k)][static_cast<size_t>(bi)] = v;
        }
        active[static_cast<size_t>(bj)] = false;
        ids[static_cast<size_t>(bi)] = n + step;
        sizes[static_cast<size_t>(bi)] = si + sj;
    }
    return merges;
}

std::vector<int> leaf_order(const std::vector<Merge>& merges, int n) {
    if (n <= 0) return {};
    if (merges.empty()) {
        std::vector<int> all(static_cast<size_t>(n));
        std::iota(all.begin(), all.end(), 0);
        return all;
    }
    std::vector<int> order;
    std::vector<int> stack{n + static_cast<int>(merges.size()) - 1};
    while (!stack.empty()) {
        const int c = stack.back();
        stack.pop_back();
        if (c < n) {
            order.push_back(c);
            continue;
        }
        const Merge& m = merges[static_cast<size_t>(c - n)];
        stack.push_back(m.b);  // a is visited first
        stack.push_back(m.a);
    }
    return order;
}

std::vector<int> cut_clusters(const std::vector<Merge>& merges, int n, double cut) {
    // Union-find over leaves, joining every merge at or below the cut.
    std::vector<int> parent(static_cast<size_t>(n));
    std::iota(parent.begin(), parent.end(), 0);
    auto find = [&](int x) {
        while (parent[static_cast<size_t>(x)] != x) x = parent[static_cast<size_t>(x)] = parent[static_cast<size_t>(parent[static_cast<size_t>(x)])];
        return x;
    };
    std::vector<int> representative(static_cast<size_t>(n) + merges.size());
    for (int i = 0; i < n; ++i) representative[static_cast<size_t>(i)] = i;
    for (size_t s = 0; s < merges.size(); ++s) {
        const int ra = representative[static_cast<size_t>(merges[s].a)], rb = representative[static_cast<size_t>(merges[s].b)];
        representative[static_cast<size_t>(n) + s] = ra;
        if (merges[s].distance <= cut) parent[static_cast<size_t>(find(rb))] = find(ra);
    }
    std::vector<int> label(static_cast<size_t>(n), -1), root_label(static_cast<size_t>(n), -1);
    int next = 0;
    for (int i = 0; i < n; ++i) {
        const int r = find(i);
        if (root_label[static_cast<size_t>(r)] < 0) root_label[static_cast<size_t>(r)] = next++;
        label[static_cast<size_t>(i)] = root_label[static_cast<size_t>(r)];
    }
    return label;
}

}  // namespace headscope::similarity
