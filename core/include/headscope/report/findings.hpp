// What a report opens with: per analysis its key result in words, the heads that matter (every
// head of every analysis's top list, with its roles and the scores behind them) and the heads that
// get a card. Derived from the results alone (torch-free), so the CLI, the GUI's export and the
// Python package build the same Findings page.
#pragma once

#include <string>
#include <vector>

#include "headscope/sdk/result_store.hpp"

namespace headscope {

// A score of one head: the value of `item` (a head grid of `analysis_id`) at the head.
struct HeadScore {
    std::string analysis_id;
    std::string item;   // head grid key
    std::string label;  // for people: the grid's title ("Direct logit attribution")
    double value = 0;
    Scale scale = Scale::sequential;
};

struct FindingLine {
    std::string analysis_id;
    std::string title;  // the analysis's title
    std::string text;   // its headline (or first summary line, or its error)
    bool failed = false;
};

struct FindingHead {
    HeadRef head;
    std::vector<std::string> roles;   // distinct, in the order of the analyses
    std::vector<HeadScore> scores;    // the values behind its roles, one per (analysis, grid)
    std::vector<std::string> named_by;  // analyses whose top list names it
    size_t best_rank = 0;             // its best position within any analysis's top list (0 = first)
};

struct Findings {
    std::vector<FindingLine> lines;
    // Every head of every top list: named by the most analyses first, then with the most roles,
    // then by its best rank, then by layer and head.
    std::vector<FindingHead> heads;
    // The grids behind any role, in analysis order: the measures every head card shows.
    std::vector<HeadScore> measures;
};

// Results without roles and without a headline (files written before the Findings page, or
// plugins that do not declare a top list) contribute the top 3 heads of their first head grid.
Findings collect_findings(const std::vector<Result>& results);
inline Findings collect_findings(const ResultsFile& results) { return collect_findings(results.results); }

// The value of `measure` (analysis id + grid key) at `head`; NaN when the grid or head is absent.
double head_value(const std::vector<Result>& results, const HeadScore& measure, const HeadRef& head);
inline double head_value(const ResultsFile& results, const HeadScore& measure, const HeadRef& head) {
    return head_value(results.results, measure, head);
}

// The head's roles joined with "; ".
std::string roles_text(const FindingHead& head);

// The heads that get a card: the first `count` of findings.heads.
std::vector<HeadRef> card_heads(const Findings& findings, size_t count = 8);

// What a head's card draws: its attention pattern on the representative prompt (from
// results.card_patterns) and its first per-head spectrum (e.g. qk_ov_svd's QK/OV singular values);
// nullptr when the results hold none.
const Matrix* card_pattern(const ResultsFile& results, const HeadRef& head);
const Spectrum* card_spectrum(const ResultsFile& results, const HeadRef& head);

}  // namespace headscope
