// Line plots (Spectrum), token chips, the horizontal legend, tick placement, item checks.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "report/figures.hpp"
#include "report/report_text.hpp"
#include "report/text_metrics.hpp"

namespace headscope::report {

std::vector<double> nice_ticks(double lo, double hi, int target) {
    std::vector<double> ticks;
    if (!std::isfinite(lo) || !std::isfinite(hi) || target < 2) return ticks;
    if (hi < lo) std::swap(lo, hi);
    if (hi == lo) return {lo};
    const double raw = (hi - lo) / (target - 1);
    const double mag = std::pow(10.0, std::floor(std::log10(raw)));
    const double r = raw / mag;  // in [1, 10)
    const double step = (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * mag;
    const double first = std::ceil(lo / step - 1e-9) * step;
    for (int i = 0; i < 1000; ++i) {
        double t = first + i * step;
        if (t > hi + step * 1e-9) break;
        if (std::fabs(t) < step * 1e-9) t = 0;  // no "-0" or 1e-17 labels
        ticks.push_back(t);
    }
    return ticks;
}

std::string item_problem(const ResultItem& item) {
    return std::visit(
        [](const auto& v) -> std::string {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, HeadGrid>) {
                if (v.layers <= 0 || v.heads <= 0) return "the head grid is empty";
                if (v.values.size() != static_cast<size_t>(v.layers) * static_cast<size_t>(v.heads))
                    return fmt::format("{} values for {} layers x {} heads", v.values.size(), v.layers, v.heads);
            } else if constexpr (std::is_same_v<T, Matrix>) {
                if (v.rows <= 0 || v.cols <= 0) return "the matrix is empty";
                if (v.values.size() != static_cast<size_t>(v.rows) * static_cast<size_t>(v.cols))
                    return fmt::format("{} values for a {}x{} matrix", v.values.size(), v.rows, v.cols);
            } else if constexpr (std::is_same_v<T, Spectrum>) {
                bool any = false;
                for (const auto& s : v.series) any = any || !s.empty();
                if (!any) return "the spectrum has no values";
            } else if constexpr (std::is_same_v<T, TokenScores>) {
                if (v.tokens.size() != v.scores.size())
                    return fmt::format("{} tokens but {} scores", v.tokens.size(), v.scores.size());
            }
            return "";
        },
        item);
}

Figure spectrum_figure(const Spectrum& s) {
    Figure f;
    f.label = s.title.empty() ? s.key : s.title;
    const double plot_w = 520, plot_h = 240, tick_font = 10, axis_font = 11;
    // Data range (log10 of positive values on a log axis).
    auto y_of = [&](double v) { return s.log_y ? (v > 0 ? std::log10(v) : NAN) : v; };
    double xmax = 0, ylo = INFINITY, yhi = -INFINITY;
    for (const auto& series : s.series) {
        xmax = std::max(xmax, static_cast<double>(series.size()) - 1);
        for (double v : series) {
            const double y = y_of(v);
            if (!std::isfinite(y)) continue;
            ylo = std::min(ylo, y);
            yhi = std::max(yhi, y);
        }
    }
    if (!std::isfinite(ylo)) ylo = 0, yhi = 1;
    if (!s.log_y) ylo = std::min(ylo, 0.0), yhi = std::max(yhi, 0.0);
    if (yhi == ylo) yhi = ylo + 1;
    const double pad = (yhi - ylo) * 0.04;
    if (s.log_y || ylo < 0) ylo -= pad;
    yhi += pad;
    if (xmax <= 0) xmax = 1;

    std::vector<double> yticks = s.log_y ? nice_ticks(std::ceil(ylo), std::floor(yhi), 6) : nice_ticks(ylo, yhi, 6);
    if (s.log_y) {  // whole decades only; fall back to plain ticks within a decade
        yticks.erase(std::remove_if(yticks.begin(), yticks.end(), [](double t) { return t != std::floor(t); }), yticks.end());
        if (yticks.size() < 2) yticks = nice_ticks(ylo, yhi, 5);
    }
    auto tick_label = [&](double t) { return s.log_y ? format_number(std::pow(10.0, t), 3) : format_number(t, 4); };
    double ytick_w = 0;
    for (double t : yticks) ytick_w = std::max(ytick_w, text_extent(tick_label(t), tick_font));
    const double x0 = axis_font + 8 + ytick_w + 6, y0 = 8;
    auto px = [&](double x) { return x0 + x / xmax * plot_w; };
    auto py = [&](double y) { return y0 + (yhi - y) / (yhi - ylo) * plot_h; };

    const Rgb grid{0xe4, 0xe4, 0xe4}, axis{0x55, 0x55, 0x55};
    for (double t : yticks) {
        f.ops.push_back(LineOp{x0, py(t), x0 + plot_w, py(t), grid, 0.6});
        f.ops.push_back(TextOp{x0 - 5, py(t) + 3.5, tick_label(t), tick_font, Anchor::end});
    }
    for (double t : nice_ticks(0, xmax, 8)) {
        if (t != std::floor(t)) continue;
        f.ops.push_back(LineOp{px(t), y0 + plot_h, px(t), y0 + plot_h + 4, axis, 0.8});
        f.ops.push_back(TextOp{px(t), y0 + plot_h + 15, format_number(t, 6), tick_font, Anchor::middle});
    }
    f.ops.push_back(LineOp{x0, y0, x0, y0 + plot_h, axis, 0.8});
    f.ops.push_back(LineOp{x0, y0 + plot_h, x0 + plot_w, y0 + plot_h, axis, 0.8});
    f.ops.push_back(TextOp{x0 + plot_w / 2, y0 + plot_h + 32, s.x_axis, axis_font, Anchor::middle, true});
    f.ops.push_back(TextOp{axis_font, y0 + plot_h / 2, s.y_axis + (s.log_y ? " (log scale)" : ""), axis_font,
                           Anchor::middle, true, true});

    for (size_t i = 0; i < s.series.size(); ++i) {
        const Rgb colour = categorical(i);
        const auto& series = s.series[i];
        PolylineOp line{{}, colour, 1.6};
        auto flush = [&] {
            if (line.xy.size() >= 4) f.ops.push_back(line);
            line.xy.clear();
        };
        for (size_t k = 0; k < series.size(); ++k) {
            const double y = y_of(series[k]);
            if (!std::isfinite(y)) {
                flush();
                continue;
            }
            line.xy.push_back(px(static_cast<double>(k)));
            line.xy.push_back(py(y));
        }
        flush();
        if (series.size() <= 40)
            for (size_t k = 0; k < series.size(); ++k) {
                const double y = y_of(series[k]);
                if (std::isfinite(y))
                    f.ops.push_back(CircleOp{px(static_cast<double>(k)), py(y), 2.2, colour, colour,
                                             fmt::format("{} [{}] = {}", i < s.series_names.size() ? s.series_names[i] : "",
                                                         k, format_number(series[k], 6))});
            }
    }
    // Legend to the right of the plot.
    double legend_w = 0;
    for (size_t i = 0; i < s.series.size(); ++i) {
        const std::string name = truncate_text(i < s.series_names.size() && !s.series_names[i].empty()
                                                   ? s.series_names[i] : fmt::format("series {}", i), 28);
        const double ly = y0 + 10 + 16 * static_cast<double>(i);
        f.ops.push_back(LineOp{x0 + plot_w + 14, ly - 3.5, x0 + plot_w + 32, ly - 3.5, categorical(i), 2.5});
        f.ops.push_back(TextOp{x0 + plot_w + 37, ly, name, tick_font});
        legend_w = std::max(legend_w, 37 + text_extent(name, tick_font));
    }
    f.width = x0 + plot_w + legend_w + 8;
    f.height = std::max(y0 + plot_h + 40, y0 + 16 * static_cast<double>(s.series.size()) + 10);
    return f;
}

Figure spectra_grid_figure(const std::vector<const Spectrum*>& spectra, double width, double cell_min, double aspect) {
    Figure f;
    f.label = "spectra";
    if (spectra.empty()) return f;
    const double gap = 8, label_h = 13, plot_h_ratio = aspect;
    const int columns = std::max(1, std::min(static_cast<int>(spectra.size()), static_cast<int>((width + gap) / (cell_min + gap))));
    const double cell_w = (width - gap * (columns - 1)) / columns, plot_h = cell_w * plot_h_ratio;
    // Legend: the series names of the first spectrum.
    double y = 0, x = 0;
    const Spectrum& first = *spectra.front();
    for (size_t i = 0; i < first.series.size(); ++i) {
        const std::string name = truncate_text(i < first.series_names.size() && !first.series_names[i].empty()
                                                   ? first.series_names[i] : fmt::format("series {}", i), 24);
        f.ops.push_back(LineOp{x, 7, x + 16, 7, categorical(i), 2.5});
        f.ops.push_back(TextOp{x + 20, 11, name, 10});
        x += 28 + text_extent(name, 10);
    }
    if (!first.series.empty()) y = 20;
    const Rgb frame{0xbb, 0xbb, 0xbb};
    for (size_t k = 0; k < spectra.size(); ++k) {
        const Spectrum& s = *spectra[k];
        const double cx = static_cast<double>(k % columns) * (cell_w + gap);
        const double cy = y + static_cast<double>(k / columns) * (label_h + plot_h + gap);
        const std::string label = s.head ? head_label(*s.head) : (s.title.empty() ? s.key : s.title);
        f.ops.push_back(TextOp{cx, cy + 10, truncate_text(label, static_cast<size_t>(cell_w / 6)), 10, Anchor::start, true});
        const double py0 = cy + label_h;
        f.ops.push_back(RectOp{cx, py0, cell_w, plot_h, {0xff, 0xff, 0xff}, true, frame});
        auto y_of = [&](double v) { return s.log_y ? (v > 0 ? std::log10(v) : NAN) : v; };
        double lo = INFINITY, hi = -INFINITY;
        size_t longest = 0;
        for (const auto& series : s.series) {
            longest = std::max(longest, series.size());
            for (double v : series)
                if (std::isfinite(y_of(v))) lo = std::min(lo, y_of(v)), hi = std::max(hi, y_of(v));
        }
        if (!std::isfinite(lo)) continue;
        if (!s.log_y) lo = std::min(lo, 0.0);
        if (hi <= lo) hi = lo + 1;
        const double xmax = std::max<double>(1, static_cast<double>(longest) - 1);
        f.ops.push_back(TextOp{cx + cell_w - 3, py0 + 10, format_number(s.log_y ? std::pow(10.0, hi) : hi, 2), 8.5,
                               Anchor::end, false, false, {0x77, 0x77, 0x77}});
        for (size_t i = 0; i < s.series.size(); ++i) {
            PolylineOp line{{}, categorical(i), 1.2};
            for (size_t j = 0; j < s.series[i].size(); ++j) {
                const double v = y_of(s.series[i][j]);
                if (!std::isfinite(v)) continue;
                line.xy.push_back(cx + 3 + (cell_w - 6) * static_cast<double>(j) / xmax);
                line.xy.push_back(py0 + 3 + (plot_h - 6) * (hi - v) / (hi - lo));
            }
            if (line.xy.size() >= 4) f.ops.push_back(std::move(line));
        }
    }
    const size_t rows = (spectra.size() + static_cast<size_t>(columns) - 1) / static_cast<size_t>(columns);
    f.width = width;
    f.height = y + static_cast<double>(rows) * (label_h + plot_h + gap);
    return f;
}

Figure horizontal_legend(const ValueRange& range, Scale scale, double width, bool has_nan) {
    Figure f;
    f.label = "colour scale";
    const int steps = 64;
    const double bar_h = 10, x0 = 4, w = std::max(60.0, width - 8 - (has_nan ? 50 : 0));
    for (int i = 0; i < steps; ++i) {
        const double t0 = static_cast<double>(i) / steps;
        const double v = range.lo + (t0 + 0.5 / steps) * (range.hi - range.lo);
        f.ops.push_back(RectOp{x0 + t0 * w, 2, w / steps + 0.3, bar_h, colour_of(v, range, scale)});
    }
    for (double t : nice_ticks(range.lo, range.hi, 5)) {
        const double tx = x0 + (t - range.lo) / (range.hi - range.lo) * w;
        f.ops.push_back(LineOp{tx, 2 + bar_h, tx, 2 + bar_h + 3, {0x44, 0x44, 0x44}, 0.8});
        f.ops.push_back(TextOp{tx, 2 + bar_h + 13, format_number(t, 3), 9.5, Anchor::middle});
    }
    if (has_nan) {
        f.ops.push_back(RectOp{x0 + w + 12, 2, 10, bar_h, nan_colour(), true});
        f.ops.push_back(TextOp{x0 + w + 25, 2 + bar_h - 1, "NaN", 9.5});
    }
    f.width = width;
    f.height = 2 + bar_h + 17;
    return f;
}

Figure token_chips_figure(const TokenScores& ts, double width) {
    Figure f;
    f.label = ts.title.empty() ? ts.key : ts.title;
    const ValueRange range = value_range(ts.scores, ts.scale);
    const double size = 9.5, h = 15, gap = 3;
    double x = 0, y = 0;
    const size_t n = std::min(ts.tokens.size(), ts.scores.size());
    bool nan = false;
    for (size_t i = 0; i < n; ++i) {
        const std::string text = token_display(ts.tokens[i]);
        const double w = std::min(width, text_width(text, size, Font::mono) + 6);
        if (x > 0 && x + w > width) {
            x = 0;
            y += h + gap;
        }
        const Rgb bg = colour_of(ts.scores[i], range, ts.scale);
        nan = nan || !std::isfinite(ts.scores[i]);
        f.ops.push_back(RectOp{x, y, w, h, bg, false, {}, fmt::format("{}: {}", i, format_number(ts.scores[i], 6))});
        TextOp t{x + 3, y + 11, truncate_text(text, static_cast<size_t>(std::max(1.0, (width - 6) / (0.6 * size)))), size};
        t.colour = text_colour_on(bg);
        t.mono = true;
        f.ops.push_back(std::move(t));
        x += w + gap;
    }
    const double chips_h = n ? y + h : 0;
    Figure legend = horizontal_legend(range, ts.scale, std::min(width, 320.0), nan);
    for (auto op : legend.ops) {
        std::visit([&](auto& o) {
            using T = std::decay_t<decltype(o)>;
            if constexpr (std::is_same_v<T, LineOp>) o.y1 += chips_h + 8, o.y2 += chips_h + 8;
            else if constexpr (std::is_same_v<T, RectOp> || std::is_same_v<T, TextOp>) o.y += chips_h + 8;
        }, op);
        f.ops.push_back(std::move(op));
    }
    f.width = width;
    f.height = chips_h + 8 + legend.height;
    return f;
}

}  // namespace headscope::report
