#include "method_agreement/rank_agreement.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace headscope::agreement {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::vector<size_t> descending_order(const std::vector<double>& v) {
    std::vector<size_t> order(v.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) { return v[x] > v[y]; });
    return order;
}

int sign(double x) { return (x > 0) - (x < 0); }
}  // namespace

std::vector<double> average_ranks(const std::vector<double>& v) {
    std::vector<size_t> order(v.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) { return v[x] < v[y]; });
    std::vector<double> ranks(v.size());
    for (size_t i = 0; i < order.size();) {
        size_t j = i;
        while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) ++j;
        const double rank = (static_cast<double>(i) + static_cast<double>(j)) / 2.0 + 1.0;
        for (size_t k = i; k <= j; ++k) ranks[order[k]] = rank;
        i = j + 1;
    }
    return ranks;
}

double spearman(const std::vector<double>& a, const std::vector<double>& b) {
    if (a.size() != b.size() || a.size() < 2) return kNaN;
    const std::vector<double> ra = average_ranks(a), rb = average_ranks(b);
    const double n = static_cast<double>(a.size());
    const double ma = std::accumulate(ra.begin(), ra.end(), 0.0) / n, mb = std::accumulate(rb.begin(), rb.end(), 0.0) / n;
    double sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < ra.size(); ++i) {
        sab += (ra[i] - ma) * (rb[i] - mb);
        saa += (ra[i] - ma) * (ra[i] - ma);
        sbb += (rb[i] - mb) * (rb[i] - mb);
    }
    return saa > 0 && sbb > 0 ? sab / std::sqrt(saa * sbb) : kNaN;
}

double kendall_tau_b(const std::vector<double>& a, const std::vector<double>& b) {
    if (a.size() != b.size() || a.size() < 2) return kNaN;
    double concordant_minus_discordant = 0, pairs_a = 0, pairs_b = 0;  // pairs not tied in a (b)
    for (size_t i = 0; i < a.size(); ++i)
        for (size_t j = i + 1; j < a.size(); ++j) {
            const int sa = sign(a[i] - a[j]), sb = sign(b[i] - b[j]);
            concordant_minus_discordant += sa * sb;
            pairs_a += sa != 0;
            pairs_b += sb != 0;
        }
    return pairs_a > 0 && pairs_b > 0 ? concordant_minus_discordant / std::sqrt(pairs_a * pairs_b) : kNaN;
}

double top_k_overlap(const std::vector<double>& a, const std::vector<double>& b, size_t k) {
    k = std::min({k, a.size(), b.size()});
    if (k == 0) return kNaN;
    const std::vector<size_t> oa = descending_order(a), ob = descending_order(b);
    std::vector<char> in_a(a.size(), 0);
    for (size_t i = 0; i < k; ++i) in_a[oa[i]] = 1;
    size_t shared = 0;
    for (size_t i = 0; i < k; ++i) shared += in_a[ob[i]] != 0;
    return static_cast<double>(shared) / static_cast<double>(k);
}

}  // namespace headscope::agreement
