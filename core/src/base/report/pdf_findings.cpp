// The PDF report's opening: the Findings page and the head cards (two per row, whole cards only).
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "report/figures.hpp"
#include "report/html_parts.hpp"
#include "report/pdf_parts.hpp"
#include "report/report_model.hpp"
#include "report/report_text.hpp"

namespace headscope::report {

namespace {

const FindingHead& finding_of(const Findings& f, const HeadRef& head) {
    for (const FindingHead& h : f.heads)
        if (h.head == head) return h;
    return f.heads.front();
}

// One card drawn at (x, y), `w` wide; returns its height. With draw = false only measures.
double card(PdfLayout& L, const ResultsFile& results, const Findings& f, const HeadRef& head, double x, double y, double w,
            bool draw) {
    const FindingHead& h = finding_of(f, head);
    const double pad = 8, inner = w - 2 * pad;
    double cy = y + pad;
    if (draw) L.doc.text(x + pad, cy + 13, head_label(head), 13, Font::bold, kInk);
    cy += 18;
    for (const std::string& line : wrap_text(roles_text(h), inner, 8.5)) {
        if (draw) L.doc.text(x + pad, cy + 8.5, line, 8.5, Font::regular, {0x28, 0x59, 0xa8});
        cy += 11;
    }
    cy += 4;
    if (const Matrix* p = card_pattern(results, head); p && item_problem(*p).empty()) {
        const Figure fig = matrix_figure(*p);
        const double s = std::min({0.85, inner / fig.width, 112 / fig.height});
        if (draw) L.doc.draw_figure(fig, x + pad, cy, s);
        cy += fig.height * s + 2;
        const auto lines = wrap_text(p->description, inner, 6.5);
        for (size_t i = 0; i < lines.size() && i < 2; ++i) {
            if (draw) L.doc.text(x + pad, cy + 6.5, lines[i], 6.5, Font::regular, kMuted);
            cy += 8;
        }
        cy += 3;
    }
    for (const HeadScore& m : f.measures) {
        bool role = false;
        for (const HeadScore& s : h.scores) role = role || (s.analysis_id == m.analysis_id && s.item == m.item);
        const Font font = role ? Font::bold : Font::regular;
        if (draw) {
            L.doc.text(x + pad, cy + 7.5, truncate_text(m.label, static_cast<size_t>((inner - 40) / 4)), 7.5, font, kInk);
            L.doc.text(x + w - pad, cy + 7.5, score_text(head_value(results, m, head), m.scale), 7.5, font, kInk, Anchor::end);
            L.doc.line(x + pad, cy + 9.8, x + w - pad, cy + 9.8, kRule, 0.4);
        }
        cy += 10;
    }
    if (const Spectrum* s = card_spectrum(results, head); s && item_problem(*s).empty()) {
        cy += 4;
        const Figure fig = spectra_grid_figure({s}, 300, 300, 0.16);
        const double scale = inner / fig.width;
        if (draw) L.doc.draw_figure(fig, x + pad, cy, scale);
        cy += fig.height * scale;
    }
    cy += pad;
    if (draw) L.doc.stroke_rect(x, y, w, cy - y, kRule, 0.8);
    return cy - y;
}

}  // namespace

void findings_pdf(PdfLayout& L, const ResultsFile& results, const Findings& f) {
    L.heading("Findings", 15, true);
    for (const FindingLine& line : f.lines) {
        L.paragraph("\xE2\x80\xA2 " + line.title + ". " + line.text, 9.5, Font::regular,
                    line.failed ? Rgb{0x9b, 0x1c, 0x1c} : kInk, 0);
        L.skip(2);
    }
    if (f.heads.empty()) {
        L.paragraph("No analysis singled out any head.", 9, Font::regular, kMuted);
        return;
    }
    L.heading("Heads that matter", 11.5, false);
    L.paragraph("Every head that an analysis's top list names, with its roles and the scores behind them; the heads named "
                "by the most analyses come first.",
                8.5, Font::regular, kMuted);
    L.skip(3);
    // Roles and scores wrap within their columns (a long role list is never cut).
    const double size = 7.5, lh = 9.3, pad = 3, x0 = PdfLayout::kMargin, w = L.content_width();
    const double head_w = 34, roles_w = (w - head_w) * 0.46, scores_w = w - head_w - roles_w;
    auto row = [&](const std::string& head, const std::string& roles, const std::string& scores, bool header) {
        const Font font = header ? Font::bold : Font::regular;
        const auto r = wrap_text(roles, roles_w - 2 * pad, size, font), sc = wrap_text(scores, scores_w - 2 * pad, size, font);
        const double h = static_cast<double>(std::max<size_t>({1, r.size(), sc.size()})) * lh + 3;
        L.ensure(h);
        const double y = L.y();
        if (header) L.doc.fill_rect(x0, y, w, h, kHeaderFill);
        L.doc.text(x0 + pad, y + size + 1.5, head, size, Font::bold, kInk);
        for (size_t i = 0; i < r.size(); ++i)
            L.doc.text(x0 + head_w + pad, y + size + 1.5 + lh * static_cast<double>(i), r[i], size, font, kInk);
        for (size_t i = 0; i < sc.size(); ++i)
            L.doc.text(x0 + head_w + roles_w + pad, y + size + 1.5 + lh * static_cast<double>(i), sc[i], size, font, kInk);
        L.doc.line(x0, y + h, x0 + w, y + h, kRule, 0.5);
        L.skip(h);
    };
    row("head", "roles", "scores", true);
    for (const FindingHead& h : f.heads) {
        std::string scores;
        for (size_t i = 0; i < h.scores.size(); ++i)
            scores += fmt::format("{}{} {}", i ? "; " : "", h.scores[i].label, score_text(h.scores[i].value, h.scores[i].scale));
        row(head_label(h.head), roles_text(h), scores, false);
    }
}

void head_cards_pdf(PdfLayout& L, const ResultsFile& results, const Findings& f) {
    const std::vector<HeadRef> heads = card_heads(f);
    if (heads.empty()) return;
    L.page_break();
    L.heading("Head cards", 15, true);
    const double w = L.column_width();
    for (size_t i = 0; i < heads.size(); i += 2) {
        double h = card(L, results, f, heads[i], 0, 0, w, false);
        if (i + 1 < heads.size()) h = std::max(h, card(L, results, f, heads[i + 1], 0, 0, w, false));
        L.ensure(h + 10);
        const double y = L.y();
        card(L, results, f, heads[i], PdfLayout::kMargin, y, w, true);
        if (i + 1 < heads.size()) card(L, results, f, heads[i + 1], PdfLayout::kMargin + w + PdfLayout::kGutter, y, w, true);
        L.skip(h + 10);
    }
}

}  // namespace headscope::report
