// The HTML report's opening: the Findings section and the head cards.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "report/figures.hpp"
#include "report/html_parts.hpp"
#include "report/report_text.hpp"

namespace headscope::report {

namespace {

// One measure as a table row: label, value (data-* carry the source and the exact value).
std::string measure_row(const HeadScore& m, double value, bool role) {
    return fmt::format("<tr{} data-analysis=\"{}\" data-item=\"{}\" data-value=\"{}\"><th>{}</th><td class=\"num\">{}</td></tr>\n",
                       role ? " class=\"role\"" : "", html_escape(m.analysis_id), html_escape(m.item),
                       std::isfinite(value) ? fmt::format("{:.17g}", value) : "NaN", html_escape(m.label),
                       html_escape(score_text(value, m.scale)));
}

}  // namespace

void findings_html(std::string& out, const ResultsFile& results, const Findings& f) {
    out += "<section id=\"findings\">\n<h2>Findings</h2>\n<ul class=\"findings\">\n";
    for (const FindingLine& line : f.lines)
        out += fmt::format("<li data-analysis=\"{}\"{}><strong>{}.</strong> {}</li>\n", html_escape(line.analysis_id),
                           line.failed ? " class=\"failed\"" : "", html_escape(line.title), html_escape(line.text));
    out += "</ul>\n";
    if (f.heads.empty()) {
        out += "<p class=\"note\">No analysis singled out any head.</p>\n</section>\n";
        return;
    }
    out += "<h3>Heads that matter</h3>\n<p class=\"note\">Every head that an analysis's top list names, with its roles "
           "and the scores behind them; the heads named by the most analyses come first.</p>\n";
    out += "<table class=\"heads\">\n<tr><th>head</th><th>roles</th><th>scores</th></tr>\n";
    const std::vector<HeadRef> cards = card_heads(f);
    for (const FindingHead& h : f.heads) {
        const std::string label = head_label(h.head);
        const bool card = std::find(cards.begin(), cards.end(), h.head) != cards.end();
        std::string scores;
        for (size_t i = 0; i < h.scores.size(); ++i)
            scores += fmt::format("{}{} {}", i ? " · " : "", html_escape(h.scores[i].label),
                                  html_escape(score_text(h.scores[i].value, h.scores[i].scale)));
        out += fmt::format("<tr data-head=\"{}\"><td><code>{}</code></td><td>{}</td><td>{}</td></tr>\n", label,
                           card ? fmt::format("<a href=\"#card-{}\">{}</a>", label, label) : label,
                           html_escape(roles_text(h)), scores);
    }
    out += "</table>\n</section>\n";
}

void head_cards_html(std::string& out, const ResultsFile& results, const Findings& f) {
    const std::vector<HeadRef> cards = card_heads(f);
    if (cards.empty()) return;
    out += "<section id=\"head-cards\">\n<h2>Head cards</h2>\n<div class=\"cards\">\n";
    for (const HeadRef& head : cards) {
        const FindingHead* h = nullptr;
        for (const FindingHead& x : f.heads)
            if (x.head == head) h = &x;
        const std::string label = head_label(head);
        out += fmt::format("<div class=\"card\" id=\"card-{}\" data-head=\"{}\">\n<h3>{}</h3>\n<p class=\"roles\">{}</p>\n",
                           label, label, label, html_escape(roles_text(*h)));
        if (const Matrix* p = card_pattern(results, head); p && item_problem(*p).empty()) {
            out += "<div class=\"plot\">" + to_svg(matrix_figure(*p)) + "</div>\n";
            if (!p->description.empty()) out += "<p class=\"note\">" + html_escape(p->description) + "</p>\n";
        }
        out += "<table class=\"measures\">\n";
        for (const HeadScore& m : f.measures) {
            bool role = false;
            for (const HeadScore& s : h->scores) role = role || (s.analysis_id == m.analysis_id && s.item == m.item);
            out += measure_row(m, head_value(results, m, head), role);
        }
        out += "</table>\n";
        if (const Spectrum* s = card_spectrum(results, head); s && item_problem(*s).empty())
            out += "<div class=\"plot\">" + to_svg(spectrum_figure(*s)) + "</div>\n<p class=\"note\">" +
                   html_escape(s->title.empty() ? s->key : s->title) + "</p>\n";
        out += "</div>\n";
    }
    out += "</div>\n</section>\n";
}

}  // namespace headscope::report
