// Building head_attribution's result items: head grids, the top-heads table, summary lines.
#pragma once

#include <string>
#include <vector>

#include "headscope/sdk/result.hpp"
#include "headscope/sdk/result_helpers.hpp"

namespace headscope::attribution {

// Mean over prompts of per-head scores (rows of equal length); empty when there are no rows.
std::vector<double> mean_rows(const std::vector<std::vector<double>>& rows);

// make_head_grid with attribution's default colour scale: diverging (effects have a sign).
inline HeadGrid make_grid(std::string key, std::string title, std::string description, int layers, int heads,
                          std::vector<double> values, Scale scale = Scale::diverging) {
    return make_head_grid(std::move(key), std::move(title), std::move(description), layers, heads, std::move(values),
                          scale);
}

// "L2H3 +1.52, L1H0 +0.80, L2H1 -0.41": the n heads with the largest |value|.
std::string top_heads_text(const std::vector<double>& values, int heads, size_t n);

// Indices of values sorted by decreasing |value|.
std::vector<size_t> order_by_magnitude(const std::vector<double>& values);

struct NamedScores {
    std::string column;
    std::vector<double> values;  // one per head
};
// Top-k heads by |primary| with every part's score in its own column.
Table top_heads_table(const std::vector<NamedScores>& parts, size_t primary, int heads, size_t k);

// The report's view of the result: its top lists (HeadRole per head the summary names: DLA, ablation,
// attribution and activation patching) and a headline in words. `answer_metric`: the metric is
// about the answer token (answer_logit, logit_diff), so the roles can say "the answer".
void add_findings(Result& result, const std::string& metric_text, bool answer_metric, const std::string& ablation,
                  double mean_clean, size_t prompts, double patching_gap);

}  // namespace headscope::attribution
