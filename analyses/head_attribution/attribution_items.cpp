#include "head_attribution/attribution_items.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "head_attribution/attribution_metric.hpp"
#include "headscope/sdk/result_helpers.hpp"

namespace headscope::attribution {

std::vector<double> mean_rows(const std::vector<std::vector<double>>& rows) {
    if (rows.empty()) return {};
    std::vector<double> mean(rows.front().size(), 0.0);
    for (const auto& r : rows)
        for (size_t i = 0; i < mean.size() && i < r.size(); ++i) mean[i] += r[i];
    for (double& v : mean) v /= static_cast<double>(rows.size());
    return mean;
}

std::vector<size_t> order_by_magnitude(const std::vector<double>& values) {
    std::vector<size_t> order(values.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return std::abs(values[a]) > std::abs(values[b]); });
    return order;
}

std::string top_heads_text(const std::vector<double>& values, int heads, size_t n) {
    return headscope::top_heads_text(headscope::top_heads(values, heads, n, HeadOrder::magnitude), "{:+.3g}");
}

Table top_heads_table(const std::vector<NamedScores>& parts, size_t primary, int heads, size_t k) {
    Table t;
    t.key = "top_heads";
    t.title = "Top heads";
    t.description = fmt::format("The heads with the largest |{}|, with every computed score.", parts[primary].column);
    t.columns = {"rank", "head", "layer", "head_index"};
    for (const auto& p : parts) t.columns.push_back(p.column);
    std::vector<size_t> order = order_by_magnitude(parts[primary].values);
    for (size_t i = 0; i < order.size() && i < k; ++i) {
        const int slot = static_cast<int>(order[i]);
        std::vector<Cell> row{static_cast<int64_t>(i + 1), head_label(slot / heads, slot % heads),
                              static_cast<int64_t>(slot / heads), static_cast<int64_t>(slot % heads)};
        for (const auto& p : parts) row.emplace_back(p.values[order[i]]);
        t.rows.push_back(std::move(row));
    }
    return t;
}

}  // namespace headscope::attribution
