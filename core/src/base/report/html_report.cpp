// The HTML report: one self-contained file (inline CSS and SVG, rasters as data: URIs), every
// piece of text from the results escaped. Output depends only on the results.
#include <cmath>

#include <fmt/format.h>

#include "headscope/report/report.hpp"
#include "report/figures.hpp"
#include "report/report_model.hpp"
#include "report/report_summary.hpp"
#include "report/report_text.hpp"

namespace headscope {

namespace {

using namespace report;

constexpr const char* kStyle = R"CSS(
:root { color-scheme: light; }
body { margin: 0; background: #f5f6f8; color: #1d2433; font: 15px/1.5 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; }
main { max-width: 1040px; margin: 0 auto; padding: 24px 28px 48px; background: #fff; min-height: 100vh; box-sizing: border-box; }
h1 { font-size: 26px; margin: 8px 0 4px; }
h2 { font-size: 20px; margin: 36px 0 8px; padding-bottom: 4px; border-bottom: 2px solid #e3e7ee; }
h3 { font-size: 16px; margin: 0 0 2px; }
.sub { color: #5b6577; margin: 0 0 16px; }
.id { font: 13px/1 ui-monospace, Menlo, Consolas, monospace; color: #5b6577; font-weight: normal; margin-left: 8px; }
nav ol { margin: 4px 0 0; padding-left: 22px; }
nav a, a { color: #2859a8; text-decoration: none; }
table { border-collapse: collapse; margin: 8px 0; font-size: 14px; }
th, td { border: 1px solid #dde2ea; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f0f3f8; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.kv th { width: 170px; }
.mono, code { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 13px; word-break: break-all; }
td code { white-space: nowrap; word-break: normal; }
.prompt { white-space: pre-wrap; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 13px; background: #f6f8fa; border: 1px solid #e3e7ee; border-radius: 4px; padding: 6px 8px; margin: 4px 0; }
.params { color: #3d4657; margin: 4px 0 8px; }
.findings { background: #f3f7ff; border-left: 4px solid #4e79a7; padding: 8px 12px 8px 28px; margin: 10px 0; }
.findings li { margin: 2px 0; }
.error { background: #fff1f0; border: 1px solid #f3b7b2; border-left: 4px solid #d64545; padding: 8px 12px; margin: 10px 0; white-space: pre-wrap; }
.ok { color: #2e7d32; } .failed { color: #c62828; font-weight: 600; }
figure { margin: 18px 0 26px; }
figcaption p { margin: 0 0 6px; color: #4a5366; font-size: 14px; }
.kind { font-size: 12px; color: #7a8396; font-weight: normal; margin-left: 6px; }
.plot { overflow-x: auto; }
.plot svg { max-width: 100%; height: auto; }
.chips { line-height: 2.1; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 13px; }
.tok { padding: 2px 3px; margin-right: 2px; border-radius: 3px; white-space: pre; }
.note { color: #6b7385; font-size: 13px; }
footer { margin-top: 40px; color: #7a8396; font-size: 13px; border-top: 1px solid #e3e7ee; padding-top: 8px; }
)CSS";

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

std::string analysis_anchor(size_t index, const Result& r) { return fmt::format("a{}-{}", index, anchor_id(r.analysis_id)); }

}  // namespace

std::string render_html_report(const ResultsFile& results) {
    const Provenance& p = results.provenance;
    const std::string title = report_title(results);
    std::string out;
    out.reserve(1 << 16);
    out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n";
    out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n";
    out += fmt::format("<meta name=\"generator\" content=\"headscope {}\"/>\n", html_escape(HEADSCOPE_VERSION));
    out += "<title>" + html_escape(title) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n<main>\n";
    out += "<h1>" + html_escape(title) + "</h1>\n";
    out += fmt::format("<p class=\"sub\">{} {} on {} prompt{}{}.</p>\n", results.results.size(),
                       results.results.size() == 1 ? "analysis" : "analyses", p.prompts.size(),
                       p.prompts.size() == 1 ? "" : "s",
                       p.created_utc.empty() ? "" : ", run " + html_escape(p.created_utc));

    // Contents.
    out += "<nav>\n<h2>Contents</h2>\n<ol>\n<li><a href=\"#provenance\">Provenance</a></li>\n";
    for (size_t i = 0; i < results.results.size(); ++i) {
        const Result& r = results.results[i];
        out += fmt::format("<li><a href=\"#{}\">{}</a>{}</li>\n", analysis_anchor(i, r),
                           html_escape(r.analysis_title.empty() ? r.analysis_id : r.analysis_title),
                           r.error.empty() ? "" : " <span class=\"failed\">(failed)</span>");
    }
    out += "</ol>\n</nav>\n";

    // Provenance.
    out += "<section id=\"provenance\">\n<h2>Provenance</h2>\n<table class=\"kv\">\n";
    for (const auto& [label, value] : provenance_rows(p)) {
        const bool mono = label == "Model SHA-256" || label == "Command line" || label == "Model";
        out += fmt::format("<tr><th>{}</th><td{}>{}</td></tr>\n", html_escape(label), mono ? " class=\"mono\"" : "",
                           html_escape(value));
    }
    out += "</table>\n";
    if (!p.prompts.empty()) {
        out += fmt::format("<h3>Prompt{}</h3>\n", p.prompts.size() == 1 ? "" : "s");
        const bool fold = p.prompts.size() > 6;
        if (fold) out += fmt::format("<details><summary>{} prompts</summary>\n", p.prompts.size());
        for (size_t i = 0; i < p.prompts.size(); ++i)
            out += fmt::format("<div class=\"prompt\" title=\"prompt {}\">{}</div>\n", i, html_escape(p.prompts[i]));
        if (fold) out += "</details>\n";
    }
    out += "<h3>Analyses</h3>\n<table>\n<tr><th>analysis</th><th>version</th><th>parameters</th><th>status</th></tr>\n";
    for (const Result& r : results.results)
        out += fmt::format("<tr><td><code>{}</code></td><td>{}</td><td class=\"mono\">{}</td><td>{}</td></tr>\n",
                           html_escape(r.analysis_id), html_escape(r.analysis_version), html_escape(parameter_text(r)),
                           r.error.empty() ? "<span class=\"ok\">ok</span>" : "<span class=\"failed\">failed</span>");
    out += "</table>\n</section>\n";

    // One section per analysis.
    for (size_t i = 0; i < results.results.size(); ++i) {
        const Result& r = results.results[i];
        const std::string anchor = analysis_anchor(i, r);
        out += fmt::format("<section id=\"{}\" class=\"analysis\">\n<h2>{}<span class=\"id\">{}{}</span></h2>\n", anchor,
                           html_escape(r.analysis_title.empty() ? r.analysis_id : r.analysis_title),
                           html_escape(r.analysis_id), r.analysis_version.empty() ? "" : " v" + html_escape(r.analysis_version));
        out += "<p class=\"params\">Parameters: <span class=\"mono\">" + html_escape(parameter_text(r)) + "</span></p>\n";
        if (!r.error.empty())
            out += "<div class=\"error\"><strong>This analysis failed:</strong> " + html_escape(r.error) + "</div>\n";
        std::vector<std::string> lines = r.summary;
        for (auto& f : result_findings(r)) lines.push_back(std::move(f));
        if (!lines.empty()) {
            out += "<ul class=\"findings\">\n";
            for (const auto& l : lines) out += "<li>" + html_escape(l) + "</li>\n";
            out += "</ul>\n";
        }
        for (size_t k = 0; k < r.items.size(); ++k)
            item_html(out, r.items[k], anchor + "-" + anchor_id(header_of(r.items[k]).key));
        if (r.items.empty() && r.error.empty()) out += "<p class=\"note\">This analysis returned no items.</p>\n";
        out += "</section>\n";
    }
    out += fmt::format("<footer>Rendered by headscope {} from the results file alone; re-render with "
                       "<code>headscope report RESULTS.h5 --html FILE</code>.</footer>\n",
                       html_escape(HEADSCOPE_VERSION));
    out += "</main>\n</body>\n</html>\n";
    return out;
}

}  // namespace headscope
