// Findings in words, derived from a Result's items: which heads score highest on each head
// grid ("Head 1.4 has the highest induction score (0.93)"), which tokens stand out.
#pragma once

#include <string>
#include <vector>

#include "headscope/sdk/result.hpp"

namespace headscope::report {

// Sentences for one head grid: the top head, the runners-up, and for a diverging scale the
// most negative head. Empty when the grid holds no finite value.
std::vector<std::string> head_grid_findings(const HeadGrid& grid, size_t runners_up = 3);

// Sentences for one token-score item (highest / lowest token).
std::vector<std::string> token_score_findings(const TokenScores& scores);

// Every finding of a result, in item order.
std::vector<std::string> result_findings(const Result& result);

}  // namespace headscope::report
