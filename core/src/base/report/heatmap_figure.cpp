// Heatmaps (HeadGrid, Matrix) with labels and a vertical colour legend.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "headscope/sdk/head_ref.hpp"
#include "report/figures.hpp"
#include "report/report_text.hpp"
#include "report/text_metrics.hpp"

namespace headscope::report {

namespace {

constexpr double kMaxGrid = 560;   // px, longest side of the grid
constexpr double kMaxCell = 32;    // px
constexpr double kMinSide = 24;    // px, thinnest side of the grid
constexpr double kLabelSize = 10;  // px
constexpr size_t kLabelChars = 16;

struct HeatmapInput {
    int rows = 0, cols = 0;
    const std::vector<double>* values = nullptr;
    std::vector<std::string> row_labels, col_labels;  // rows / cols long
    std::string row_axis, col_axis;
    Scale scale = Scale::sequential;
    std::string label;
    bool head_grid = false;
};

bool any_nan(const std::vector<double>& v) {
    return std::any_of(v.begin(), v.end(), [](double x) { return !std::isfinite(x); });
}

std::string cell_tooltip(const HeatmapInput& in, int r, int c, double v) {
    if (in.head_grid) return fmt::format("head {}: {}", head_label(r, c), format_number(v, 6));
    return fmt::format("{} {} '{}' \u2192 {} {} '{}': {}", in.row_axis.empty() ? "row" : in.row_axis, r,
                       in.row_labels[static_cast<size_t>(r)], in.col_axis.empty() ? "col" : in.col_axis, c,
                       in.col_labels[static_cast<size_t>(c)], format_number(v, 6));
}

// Vertical legend at (x, y) of height h; returns its width.
double vertical_legend(Figure& f, double x, double y, double h, const ValueRange& range, Scale scale, bool has_nan) {
    const int steps = 64;
    const double bar_w = 12;
    for (int i = 0; i < steps; ++i) {
        const double t0 = static_cast<double>(i) / steps;
        const double v = range.hi - (t0 + 0.5 / steps) * (range.hi - range.lo);
        // Overlap slightly so no hairline gaps show between steps.
        f.ops.push_back(RectOp{x, y + t0 * h, bar_w, h / steps + 0.3, colour_of(v, range, scale)});
    }
    const Rgb frame{0x88, 0x88, 0x88};
    f.ops.push_back(LineOp{x, y, x + bar_w, y, frame, 0.5});
    f.ops.push_back(LineOp{x, y + h, x + bar_w, y + h, frame, 0.5});
    f.ops.push_back(LineOp{x, y, x, y + h, frame, 0.5});
    f.ops.push_back(LineOp{x + bar_w, y, x + bar_w, y + h, frame, 0.5});
    double width = bar_w;
    for (double t : nice_ticks(range.lo, range.hi, 5)) {
        const double ty = y + (range.hi - t) / (range.hi - range.lo) * h;
        f.ops.push_back(LineOp{x + bar_w, ty, x + bar_w + 3, ty, {0x44, 0x44, 0x44}, 0.8});
        const std::string label = format_number(t, 3);
        f.ops.push_back(TextOp{x + bar_w + 5, ty + 3.5, label, kLabelSize});
        width = std::max(width, bar_w + 5 + text_extent(label, kLabelSize));
    }
    if (has_nan) {
        width = std::max(width, bar_w + 5 + text_extent("NaN", kLabelSize));
        const double ny = y + h + 10;
        f.ops.push_back(RectOp{x, ny, bar_w, 10, nan_colour(), true});
        f.ops.push_back(TextOp{x + bar_w + 5, ny + 8.5, "NaN", kLabelSize});
    }
    return width;
}

Figure heatmap(const HeatmapInput& in) {
    Figure f;
    f.label = in.label;
    const std::vector<double>& values = *in.values;
    const ValueRange range = value_range(values, in.scale);
    const bool nan = any_nan(values);
    const size_t cells = static_cast<size_t>(in.rows) * static_cast<size_t>(in.cols);
    const bool as_rects = cells <= kMaxCellsAsRects;

    double cell = std::min({kMaxCell, kMaxGrid / in.cols, kMaxGrid / in.rows});
    double cell_w = cell, cell_h = cell;
    if (cell_w * in.cols < kMinSide) cell_w = kMinSide / in.cols;
    if (cell_h * in.rows < kMinSide) cell_h = kMinSide / in.rows;
    const double grid_w = cell_w * in.cols, grid_h = cell_h * in.rows;

    // Which rows/columns get a label: every one when they fit, else every k-th (as rects) or
    // round indices (as a raster).
    auto label_positions = [&](int count, double step_px) {
        std::vector<int> out;
        if (as_rects) {
            const int every = std::max(1, static_cast<int>(std::ceil(11.0 / step_px)));
            for (int i = 0; i < count; i += every) out.push_back(i);
        } else {
            for (double t : nice_ticks(0, count - 1, 6))
                if (t >= 0 && t <= count - 1 && t == std::floor(t)) out.push_back(static_cast<int>(t));
        }
        return out;
    };
    auto label_text = [&](const std::vector<std::string>& labels, int i) {
        return as_rects ? truncate_text(labels[static_cast<size_t>(i)], kLabelChars) : std::to_string(i);
    };
    const std::vector<int> row_ticks = label_positions(in.rows, cell_h);
    const std::vector<int> col_ticks = label_positions(in.cols, cell_w);
    const double row_font = as_rects ? std::min(kLabelSize, std::max(7.0, cell_h * 0.85)) : kLabelSize;
    const double col_font = as_rects ? std::min(kLabelSize, std::max(7.0, cell_w * 0.85)) : kLabelSize;
    double row_label_w = 0, col_label_h = 0;
    for (int r : row_ticks) row_label_w = std::max(row_label_w, text_extent(label_text(in.row_labels, r), row_font));
    for (int c : col_ticks) col_label_h = std::max(col_label_h, text_extent(label_text(in.col_labels, c), col_font));

    const double axis_font = 11;
    const double left = (in.row_axis.empty() ? 0 : axis_font + 6) + row_label_w + 6;
    const double top = 6;
    const double x0 = left, y0 = top;

    if (as_rects) {
        for (int r = 0; r < in.rows; ++r)
            for (int c = 0; c < in.cols; ++c) {
                const double v = values[static_cast<size_t>(r) * in.cols + c];
                f.ops.push_back(RectOp{x0 + c * cell_w, y0 + r * cell_h, cell_w, cell_h, colour_of(v, range, in.scale),
                                       false, {}, cell_tooltip(in, r, c, v)});
            }
    } else {
        // Block means (ignoring non-finite values) down to at most kMaxRasterSide per side.
        const int br = (in.rows + kMaxRasterSide - 1) / kMaxRasterSide, bc = (in.cols + kMaxRasterSide - 1) / kMaxRasterSide;
        ImageOp im{x0, y0, grid_w, grid_h, (in.cols + bc - 1) / bc, (in.rows + br - 1) / br, {}};
        im.rgb.reserve(static_cast<size_t>(im.pixels_w) * im.pixels_h * 3);
        for (int py = 0; py < im.pixels_h; ++py)
            for (int px = 0; px < im.pixels_w; ++px) {
                double sum = 0;
                int count = 0;
                for (int r = py * br; r < std::min(in.rows, (py + 1) * br); ++r)
                    for (int c = px * bc; c < std::min(in.cols, (px + 1) * bc); ++c) {
                        const double v = values[static_cast<size_t>(r) * in.cols + c];
                        if (std::isfinite(v)) {
                            sum += v;
                            ++count;
                        }
                    }
                const Rgb rgb = count ? colour_of(sum / count, range, in.scale) : nan_colour();
                im.rgb.insert(im.rgb.end(), {rgb.r, rgb.g, rgb.b});
            }
        f.ops.push_back(std::move(im));
        if (br > 1 || bc > 1)
            f.label += fmt::format(" (shown as {}x{} block means of the {}x{} values)", br, bc, in.rows, in.cols);
    }
    // Frame.
    const Rgb frame{0x99, 0x99, 0x99};
    f.ops.push_back(LineOp{x0, y0, x0 + grid_w, y0, frame, 0.5});
    f.ops.push_back(LineOp{x0, y0 + grid_h, x0 + grid_w, y0 + grid_h, frame, 0.5});
    f.ops.push_back(LineOp{x0, y0, x0, y0 + grid_h, frame, 0.5});
    f.ops.push_back(LineOp{x0 + grid_w, y0, x0 + grid_w, y0 + grid_h, frame, 0.5});

    for (int r : row_ticks)
        f.ops.push_back(TextOp{x0 - 4, y0 + (r + 0.5) * cell_h + row_font * 0.35, label_text(in.row_labels, r), row_font,
                               Anchor::end});
    for (int c : col_ticks)
        f.ops.push_back(TextOp{x0 + (c + 0.5) * cell_w + col_font * 0.35, y0 + grid_h + 4, label_text(in.col_labels, c),
                               col_font, Anchor::end, false, true});
    double bottom = y0 + grid_h + 4 + col_label_h;
    if (!in.col_axis.empty()) {
        bottom += axis_font + 6;
        f.ops.push_back(TextOp{x0 + grid_w / 2, bottom, in.col_axis, axis_font, Anchor::middle, true});
    }
    if (!in.row_axis.empty())
        f.ops.push_back(TextOp{axis_font, y0 + grid_h / 2, in.row_axis, axis_font, Anchor::middle, true, true});

    const double legend_x = x0 + grid_w + 18;
    const double legend_h = std::max(grid_h, 100.0);
    const double legend_w = vertical_legend(f, legend_x, y0, legend_h, range, in.scale, nan);
    f.width = legend_x + legend_w + 4;
    f.height = std::max(bottom, y0 + legend_h + (nan ? 24 : 0)) + 6;
    return f;
}

}  // namespace

Figure head_grid_figure(const HeadGrid& g) {
    HeatmapInput in;
    in.rows = g.layers;
    in.cols = g.heads;
    in.values = &g.values;
    for (int l = 0; l < g.layers; ++l) in.row_labels.push_back("L" + std::to_string(l));
    for (int h = 0; h < g.heads; ++h) in.col_labels.push_back("H" + std::to_string(h));
    in.row_axis = "layer";
    in.col_axis = "head";
    in.scale = g.scale;
    in.label = g.title.empty() ? g.key : g.title;
    in.head_grid = true;
    return heatmap(in);
}

Figure matrix_figure(const Matrix& m) {
    HeatmapInput in;
    in.rows = m.rows;
    in.cols = m.cols;
    in.values = &m.values;
    for (int r = 0; r < m.rows; ++r)
        in.row_labels.push_back(m.row_labels.size() == static_cast<size_t>(m.rows) ? token_display(m.row_labels[r])
                                                                                   : std::to_string(r));
    for (int c = 0; c < m.cols; ++c)
        in.col_labels.push_back(m.col_labels.size() == static_cast<size_t>(m.cols) ? token_display(m.col_labels[c])
                                                                                   : std::to_string(c));
    in.row_axis = m.row_axis;
    in.col_axis = m.col_axis;
    in.scale = m.scale;
    in.label = m.title.empty() ? m.key : m.title;
    return heatmap(in);
}

}  // namespace headscope::report
