// Building the report's figures from Result items (device-independent; see figure.hpp).
#pragma once

#include <string>
#include <vector>

#include "headscope/sdk/result.hpp"
#include "report/figure.hpp"

namespace headscope::report {

// Heatmaps with a colour legend. Small grids are drawn cell by cell (with a tooltip per cell);
// large ones (more than kMaxCellsAsRects cells) as a raster, block-averaged down to at most
// kMaxRasterSide pixels per side when needed.
constexpr size_t kMaxCellsAsRects = 4096;
constexpr int kMaxRasterSide = 512;
Figure head_grid_figure(const HeadGrid& grid);
Figure matrix_figure(const Matrix& matrix);

// Line plot of every series over its index, with axes, ticks and a legend.
Figure spectrum_figure(const Spectrum& spectrum);

// Small multiples: one small line plot per spectrum (e.g. every head's QK and OV singular
// values), as many per row as fit in `width` (at least cell_min pixels each), each with its own
// y range (from 0, or log), labelled by its head (or title); one legend of the series on top.
Figure spectra_grid_figure(const std::vector<const Spectrum*>& spectra, double width, double cell_min = 110,
                            double aspect = 0.62);

// Nodes in columns by layer, weighted edges as curves (width ~ |weight|, colour = kind,
// dashed = negative). At most kMaxGraphEdges edges (the heaviest) are drawn.
constexpr size_t kMaxGraphEdges = 300;
Figure graph_figure(const Graph& graph);

// Tokens as coloured chips wrapped to `width` (used by the PDF; the HTML uses styled spans).
Figure token_chips_figure(const TokenScores& scores, double width);

// A horizontal colour bar with ticks, for token scores.
Figure horizontal_legend(const ValueRange& range, Scale scale, double width, bool has_nan);

// Round tick values covering [lo, hi] (about `target` of them, multiples of 1, 2 or 5 x 10^k).
std::vector<double> nice_ticks(double lo, double hi, int target);

}  // namespace headscope::report

namespace headscope::report {
// Why an item cannot be drawn (sizes that do not match, e.g. from a hand-edited file); "" when fine.
std::string item_problem(const ResultItem& item);
}  // namespace headscope::report
