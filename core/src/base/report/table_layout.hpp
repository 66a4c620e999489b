// Column widths of a report table: a column that fits its fair share keeps its natural width
// (so short columns such as a head "L10H3" are never cut), the wide ones share what is left.
#pragma once

#include <cstddef>
#include <vector>

namespace headscope::report {

// Widths summing to at most `available`. When the natural widths fit, they are returned as they
// are. Otherwise columns no wider than an even share of the room left keep their width (repeated
// until none qualifies) and the rest are scaled down together; when the narrow columns alone do
// not fit, every column is scaled.
std::vector<double> fit_column_widths(const std::vector<double>& natural, double available);

// Tables with more rows than this go to the PDF's appendix, after every analysis's figures.
constexpr size_t kInlineTableRows = 12;

}  // namespace headscope::report
