// The HTML report: one self-contained file (inline CSS and SVG, rasters as data: URIs), every
// piece of text from the results escaped. Output depends only on the results.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "headscope/report/report.hpp"
#include "report/html_parts.hpp"
#include "report/report_model.hpp"
#include "report/report_sections.hpp"
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
.heads td:nth-child(3) { font-size: 13px; color: #3d4657; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 14px; margin: 10px 0 24px; }
.card { border: 1px solid #dde2ea; border-radius: 6px; padding: 10px 12px; background: #fbfcfe; }
.card h3 { font-size: 18px; margin: 0; }
.card .roles { color: #2859a8; margin: 2px 0 8px; font-size: 14px; }
.card .plot svg { width: 100%; height: auto; }
.card table.measures { width: 100%; font-size: 13px; }
.card table.measures th { font-weight: normal; background: none; }
.card tr.role th, .card tr.role td { font-weight: 600; }
details.appendix { margin: 8px 0 14px; border: 1px solid #e3e7ee; border-radius: 4px; padding: 4px 10px; }
details.appendix > summary { cursor: pointer; font-weight: 600; padding: 4px 0; }
footer { margin-top: 40px; color: #7a8396; font-size: 13px; border-top: 1px solid #e3e7ee; padding-top: 8px; }
)CSS";

std::string analysis_anchor(size_t index, const Result& r) { return fmt::format("a{}-{}", index, anchor_id(r.analysis_id)); }

}  // namespace

std::string render_html_report(const ResultsFile& results) {
    const Provenance& p = results.provenance;
    const std::string title = report_title(results);
    const Findings findings = collect_findings(results);
    std::vector<const Result*> analyses;
    for (const Result& r : results.results) analyses.push_back(&r);
    std::string out;
    out.reserve(1 << 16);
    out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n";
    out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n";
    out += fmt::format("<meta name=\"generator\" content=\"headscope {}\"/>\n", html_escape(HEADSCOPE_VERSION));
    out += "<title>" + html_escape(title) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n<main>\n";
    out += "<h1>" + html_escape(title) + "</h1>\n";
    out += fmt::format("<p class=\"sub\">{} {} on {} prompt{}{}.</p>\n", analyses.size(),
                       analyses.size() == 1 ? "analysis" : "analyses", p.prompts.size(), p.prompts.size() == 1 ? "" : "s",
                       p.created_utc.empty() ? "" : ", run " + html_escape(p.created_utc));

    // What was found comes first; then the cards of the heads that matter.
    findings_html(out, results, findings);
    head_cards_html(out, results, findings);

    // Where each item goes: the detail sections, or the appendix.
    std::vector<std::vector<PlacedItem>> placed;
    bool any_appendix = false;
    for (const Result* r : analyses) {
        placed.push_back(place_items(*r));
        for (const PlacedItem& item : placed.back()) any_appendix = any_appendix || item.appendix;
    }

    out += "<nav>\n<h2>Contents</h2>\n<ol>\n<li><a href=\"#findings\">Findings</a></li>\n";
    if (!card_heads(findings).empty()) out += "<li><a href=\"#head-cards\">Head cards</a></li>\n";
    out += "<li><a href=\"#provenance\">Provenance</a></li>\n";
    for (size_t i = 0; i < analyses.size(); ++i) {
        const Result& r = *analyses[i];
        out += fmt::format("<li><a href=\"#{}\">{}</a>{}</li>\n", analysis_anchor(i, r),
                           html_escape(r.analysis_title.empty() ? r.analysis_id : r.analysis_title),
                           r.error.empty() ? "" : " <span class=\"failed\">(failed)</span>");
    }
    if (any_appendix) out += "<li><a href=\"#appendix\">Appendix</a></li>\n";
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
    for (const Result* r : analyses)
        out += fmt::format("<tr><td><code>{}</code></td><td>{}</td><td class=\"mono\">{}</td><td>{}</td></tr>\n",
                           html_escape(r->analysis_id), html_escape(r->analysis_version), html_escape(parameter_text(*r)),
                           r->error.empty() ? "<span class=\"ok\">ok</span>" : "<span class=\"failed\">failed</span>");
    out += "</table>\n</section>\n";

    // One section per analysis: its summary, findings in words and main items.
    for (size_t i = 0; i < analyses.size(); ++i) {
        const Result& r = *analyses[i];
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
        size_t moved = 0;
        for (const PlacedItem& item : placed[i]) {
            if (item.appendix) {
                ++moved;
                continue;
            }
            item_html(out, *item.item, anchor + "-" + anchor_id(header_of(*item.item).key));
        }
        if (moved)
            out += fmt::format("<p class=\"note\">{} more item{} of this analysis {} in the <a href=\"#appendix-{}\">appendix</a>.</p>\n",
                               moved, moved == 1 ? "" : "s", moved == 1 ? "is" : "are", anchor);
        if (r.items.empty() && r.error.empty()) out += "<p class=\"note\">This analysis returned no items.</p>\n";
        out += "</section>\n";
    }

    // The appendix: reference material, folded per analysis.
    if (any_appendix) {
        out += "<section id=\"appendix\">\n<h2>Appendix</h2>\n<p class=\"note\">Long tables, per-head and per-prompt "
               "series and reference matrices, by analysis (click to open).</p>\n";
        for (size_t i = 0; i < analyses.size(); ++i) {
            std::vector<const PlacedItem*> items;
            for (const PlacedItem& item : placed[i])
                if (item.appendix) items.push_back(&item);
            if (items.empty()) continue;
            const Result& r = *analyses[i];
            const std::string anchor = analysis_anchor(i, r);
            out += fmt::format("<details class=\"appendix\" id=\"appendix-{}\">\n<summary>{} <span class=\"id\">{}</span> "
                               "\xC2\xB7 {} item{}</summary>\n",
                               anchor, html_escape(r.analysis_title.empty() ? r.analysis_id : r.analysis_title),
                               html_escape(r.analysis_id), items.size(), items.size() == 1 ? "" : "s");
            for (const PlacedItem* item : items)
                item_html(out, *item->item, anchor + "-" + anchor_id(header_of(*item->item).key));
            out += "</details>\n";
        }
        out += "</section>\n";
    }
    out += fmt::format("<footer>Rendered by headscope {} from the results file alone; re-render with "
                       "<code>headscope report RESULTS.h5 --html FILE</code>.</footer>\n",
                       html_escape(HEADSCOPE_VERSION));
    out += "</main>\n</body>\n</html>\n";
    return out;
}

}  // namespace headscope
