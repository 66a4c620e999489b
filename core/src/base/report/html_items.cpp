// The HTML of one result item: heatmaps, plots and graphs as inline SVG, token scores as coloured
// chips, tables as <table> (the first kHtmlTableRows rows).
#include <cmath>

#include <fmt/format.h>

#include "report/figures.hpp"
#include "report/html_parts.hpp"
#include "report/report_model.hpp"
#include "report/report_text.hpp"

namespace headscope::report {

void item_html(std::string& out, const ResultItem& item, const std::string& anchor) {
    const ItemHeader& h = header_of(item);
    out += fmt::format("<figure id=\"{}\">\n<figcaption><h3>{}<span class=\"kind\">{}</span></h3>\n", anchor,
                       html_escape(h.title.empty() ? h.key : h.title), html_escape(kind_name(item)));
    if (!h.description.empty()) out += "<p>" + html_escape(h.description) + "</p>\n";
    out += "</figcaption>\n";
    const std::string problem = item_problem(item);
    if (!problem.empty()) {
        out += "<p class=\"error\">This item cannot be drawn: " + html_escape(problem) + "</p>\n</figure>\n";
        return;
    }
    std::visit(
        [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, HeadGrid>) {
                out += "<div class=\"plot\">" + to_svg(head_grid_figure(v)) + "</div>\n";
            } else if constexpr (std::is_same_v<T, Matrix>) {
                Figure f = matrix_figure(v);
                out += "<div class=\"plot\">" + to_svg(f) + "</div>\n";
                if (static_cast<size_t>(v.rows) * v.cols > kMaxCellsAsRects)
                    out += fmt::format("<p class=\"note\">{} rows x {} columns, drawn as an image{}.</p>\n", v.rows, v.cols,
                                       v.rows > kMaxRasterSide || v.cols > kMaxRasterSide ? " of block means" : "");
            } else if constexpr (std::is_same_v<T, Spectrum>) {
                out += "<div class=\"plot\">" + to_svg(spectrum_figure(v)) + "</div>\n";
            } else if constexpr (std::is_same_v<T, Graph>) {
                out += "<div class=\"plot\">" + to_svg(graph_figure(v)) + "</div>\n";
            } else if constexpr (std::is_same_v<T, TokenScores>) {
                const ValueRange range = value_range(v.scores, v.scale);
                bool nan = false;
                out += "<div class=\"chips\">";
                for (size_t i = 0; i < v.tokens.size(); ++i) {
                    const Rgb bg = colour_of(v.scores[i], range, v.scale);
                    nan = nan || !std::isfinite(v.scores[i]);
                    out += fmt::format("<span class=\"tok\" style=\"background:{};color:{}\" title=\"{}: {}\">{}</span>",
                                       css(bg), css(text_colour_on(bg)), i, format_number(v.scores[i], 6),
                                       html_escape(token_display(v.tokens[i])));
                }
                out += "</div>\n<div class=\"plot\">" + to_svg(horizontal_legend(range, v.scale, 320, nan)) + "</div>\n";
            } else if constexpr (std::is_same_v<T, Table>) {
                out += "<div class=\"plot\"><table>\n<tr>";
                for (const auto& c : v.columns) out += "<th>" + html_escape(c) + "</th>";
                out += "</tr>\n";
                const size_t shown = std::min(v.rows.size(), kHtmlTableRows);
                for (size_t r = 0; r < shown; ++r) {
                    out += "<tr>";
                    const size_t width = std::max(v.columns.size(), v.rows[r].size());
                    for (size_t c = 0; c < width; ++c) {
                        if (c >= v.rows[r].size()) {
                            out += "<td></td>";
                            continue;
                        }
                        const Cell& cell = v.rows[r][c];
                        out += cell_is_number(cell) ? "<td class=\"num\">" : "<td>";
                        out += html_escape(cell_text(cell)) + "</td>";
                    }
                    out += "</tr>\n";
                }
                out += "</table></div>\n";
                if (shown < v.rows.size())
                    out += fmt::format("<p class=\"note\">The first {} of {} rows; every row is in the results file.</p>\n",
                                       shown, v.rows.size());
            }
        },
        item);
    out += "</figure>\n";
}

std::string score_text(double value, Scale scale) {
    const std::string s = format_number(value, 3);
    return scale == Scale::diverging && std::isfinite(value) && value > 0 ? "+" + s : s;
}

}  // namespace headscope::report
