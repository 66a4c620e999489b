#include "head_attribution/attribution_items.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <numeric>

#include <fmt/format.h>
#include <fmt/ranges.h>

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

void add_findings(Result& r, const std::string& metric_text, bool answer_metric, const std::string& ablation,
                  double mean_clean, size_t prompts, double patching_gap) {
    // A head is in a top list when it is among the 3 strongest and at least a quarter of the strongest.
    std::vector<std::string> parts;
    const std::string target = answer_metric ? "the answer" : "the metric";
    if (const HeadGrid* g = r.head_grid("dla_heads")) {
        const auto up = add_roles(r, *g, answer_metric ? "writes the answer (DLA)" : "raises the metric directly (DLA)", 3,
                                  HeadOrder::highest, 0.0, 0.25);
        const double top = up.empty() ? 0 : up.front().value;
        const auto down = add_roles(r, *g, answer_metric ? "suppresses the answer (DLA)" : "lowers the metric directly (DLA)",
                                    2, HeadOrder::lowest, -0.25 * std::abs(top));
        if (!up.empty()) parts.push_back("It is written directly mostly by " + heads_sentence(up, "{:+.3g}"));
        if (!down.empty()) parts.push_back("opposed directly by " + heads_sentence(down, "{:+.3g}"));
    }
    if (const HeadGrid* g = r.head_grid("ablation_effect")) {
        const auto hurt = add_roles(r, *g, "needed (" + ablation + " ablation lowers " + target + ")", 3, HeadOrder::lowest,
                                    0.0, 0.25);
        if (!hurt.empty()) parts.push_back(ablation + "-ablating " + heads_sentence(hurt, "{:+.3g}") + " lowers it most");
    }
    if (const HeadGrid* g = r.head_grid("activation_patching")) {
        const auto carry = add_roles(r, *g, "carries " + target + " (activation patching)", 3, HeadOrder::highest, 0.0, 0.25);
        if (!carry.empty())
            parts.push_back(fmt::format("patching in the clean output of {} restores the most of the {:.3g} gap",
                                        heads_sentence(carry, "{:+.3g}"), patching_gap));
    }
    if (const HeadGrid* g = r.head_grid("attribution_patching")) {
        const auto carry = add_roles(r, *g, "carries " + target + " (attribution patching)", 3, HeadOrder::highest, 0.0, 0.25);
        if (!carry.empty() && !r.head_grid("activation_patching"))
            parts.push_back("attribution patching points to " + heads_sentence(carry, "{:+.3g}"));
    }
    r.headline = fmt::format("The metric {} averages {:.3g} over {} prompt{}. ", metric_text, mean_clean, prompts,
                             prompts == 1 ? "" : "s");
    if (parts.empty()) {
        r.headline += "No head stands out.";
    } else {
        parts.front()[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(parts.front()[0])));
        r.headline += fmt::format("{}.", fmt::join(parts, "; "));
    }
}

}  // namespace headscope::attribution
