// The PDF report: the same sections and figures as the HTML report, flowed onto A4 pages.
#include <algorithm>
#include <cmath>
#include <optional>

#include <fmt/format.h>

#include "headscope/report/report.hpp"
#include "report/figures.hpp"
#include "report/pdf_document.hpp"
#include "report/report_model.hpp"
#include "report/report_summary.hpp"
#include "report/report_text.hpp"
#include "report/table_layout.hpp"
#include "tokenizers/utf8.hpp"

namespace headscope {

namespace {

using namespace report;

const Rgb kInk{0x1d, 0x24, 0x33}, kMuted{0x5b, 0x65, 0x77}, kRule{0xdd, 0xe2, 0xea}, kHeaderFill{0xf0, 0xf3, 0xf8};

class PdfLayout {
public:
    explicit PdfLayout(std::string title) : title_(std::move(title)) {}

    PdfDocument doc;
    static constexpr double kMargin = 50, kBottom = 56;
    double content_width() const { return doc.page_width() - 2 * kMargin; }
    double usable_height() const { return doc.page_height() - kMargin - kBottom; }

    void start() { page_break(); }

    // Starts a new page when `h` more points do not fit.
    void ensure(double h) {
        if (y_ + h > doc.page_height() - kBottom) page_break();
    }
    void page_break() {
        doc.new_page();
        y_ = kMargin;
        doc.text(doc.page_width() / 2, doc.page_height() - 28,
                 fmt::format("{} \xC2\xB7 page {}", title_, doc.page_count()), 8, Font::regular, kMuted, Anchor::middle);
    }
    void skip(double h) { y_ += h; }

    void heading(const std::string& text, double size, bool rule) {
        ensure(size * 1.4 + 40);  // keep a heading with what follows
        y_ += size * 0.6;
        doc.text(kMargin, y_ + size, text, size, Font::bold, kInk);
        y_ += size * 1.35;
        if (rule) {
            doc.line(kMargin, y_, kMargin + content_width(), y_, kRule, 1.2);
            y_ += 6;
        }
    }

    void paragraph(const std::string& text, double size = 10, Font font = Font::regular, Rgb colour = kInk,
                   double indent = 0, Rgb background = {255, 255, 255}) {
        const double lh = size * 1.35, width = content_width() - indent - (background == Rgb{255, 255, 255} ? 0 : 8);
        for (const std::string& line : wrap_text(text, width, size, font)) {
            ensure(lh);
            if (!(background == Rgb{255, 255, 255})) doc.fill_rect(kMargin + indent, y_, content_width() - indent, lh, background);
            doc.text(kMargin + indent + (background == Rgb{255, 255, 255} ? 0 : 4), y_ + size, line, size, font, colour);
            y_ += lh;
        }
    }

    // Label/value rows (values wrapped).
    void key_values(const std::vector<std::pair<std::string, std::string>>& rows) {
        const double label_w = 110, size = 9, lh = size * 1.4;
        for (const auto& [label, value] : rows) {
            const bool mono = label == "Model SHA-256" || label == "Command line";
            const auto lines = wrap_text(value, content_width() - label_w, mono ? 8 : size, mono ? Font::mono : Font::regular);
            ensure(lh * std::min<size_t>(lines.size(), 3));
            doc.text(kMargin, y_ + size, label, size, Font::bold, kInk);
            for (const auto& l : lines) {
                ensure(lh);
                doc.text(kMargin + label_w, y_ + size, l, mono ? 8 : size, mono ? Font::mono : Font::regular, kInk);
                y_ += lh;
            }
        }
    }

    // A table with a header row repeated on every page; cells are cut to fit their column (only
    // wide columns shrink, see fit_column_widths).
    void table(const std::vector<std::string>& columns, const std::vector<std::vector<std::string>>& rows,
               const std::vector<bool>& numeric) {
        const double size = 8, lh = 13, pad = 3;
        const size_t ncol = std::max<size_t>(1, columns.size());
        std::vector<double> want(ncol, 20);
        for (size_t c = 0; c < columns.size(); ++c) want[c] = std::max(want[c], text_width(columns[c], size, Font::bold) + 2 * pad);
        for (const auto& r : rows)
            for (size_t c = 0; c < std::min(ncol, r.size()); ++c)
                want[c] = std::max(want[c], std::min(220.0, text_width(r[c], size) + 2 * pad));
        want = fit_column_widths(want, content_width());
        double total = 0;
        for (double w : want) total += w;
        auto fit = [&](const std::string& s, double w, Font f) {
            if (text_width(s, size, f) <= w - 2 * pad) return s;
            std::string cut = s;
            for (size_t chars = utf8::decode(s).size(); chars > 1; chars = chars * 3 / 4) {
                cut = truncate_text(s, chars);
                if (text_width(cut, size, f) <= w - 2 * pad) return cut;
            }
            return std::string("\u2026");
        };
        auto draw_row = [&](const std::vector<std::string>& cells, bool header) {
            double x = kMargin;
            if (header) doc.fill_rect(kMargin, y_, total, lh, kHeaderFill);
            for (size_t c = 0; c < ncol; ++c) {
                const std::string cell = c < cells.size() ? fit(cells[c], want[c], header ? Font::bold : Font::regular) : "";
                const bool right = !header && c < numeric.size() && numeric[c];
                doc.text(right ? x + want[c] - pad : x + pad, y_ + lh - 4, cell, size, header ? Font::bold : Font::regular,
                         kInk, right ? Anchor::end : Anchor::start);
                x += want[c];
            }
            doc.line(kMargin, y_ + lh, kMargin + total, y_ + lh, kRule, 0.5);
            y_ += lh;
        };
        ensure(2 * lh);
        draw_row(columns, true);
        for (const auto& r : rows) {
            if (y_ + lh > doc.page_height() - kBottom) {
                page_break();
                draw_row(columns, true);
            }
            draw_row(r, false);
        }
        y_ += 4;
    }

    double figure_scale(const Figure& f) const {
        if (f.width <= 0 || f.height <= 0) return 1;
        // Figures are laid out in CSS pixels; 0.85 pt per pixel keeps them compact on paper.
        return std::min({0.85, content_width() / f.width, usable_height() / f.height});
    }
    double figure_height(const Figure& f) const { return f.height * figure_scale(f) + 6; }
    void figure(const Figure& f) {
        if (f.width <= 0 || f.height <= 0) return;
        const double s = figure_scale(f);
        ensure(f.height * s);
        doc.draw_figure(f, kMargin, y_, s);
        y_ += f.height * s + 6;
    }

private:
    std::string title_;
    double y_ = kMargin;
};

void table_pdf(PdfLayout& L, const Table& v) {
    std::vector<std::vector<std::string>> rows;
    std::vector<bool> numeric(v.columns.size(), true);
    const size_t shown = std::min(v.rows.size(), kPdfTableRows);
    for (size_t r = 0; r < shown; ++r) {
        std::vector<std::string> cells;
        for (size_t c = 0; c < v.rows[r].size(); ++c) {
            cells.push_back(cell_text(v.rows[r][c]));
            if (c < numeric.size() && !cell_is_number(v.rows[r][c])) numeric[c] = false;
        }
        rows.push_back(std::move(cells));
    }
    L.table(v.columns, rows, numeric);
    if (shown < v.rows.size())
        L.paragraph(fmt::format("The first {} of {} rows; every row is in the results file.", shown, v.rows.size()), 8.5,
                    Font::regular, kMuted);
}

// The figure an item draws as, if any (tables draw row by row).
std::optional<Figure> item_figure(const ResultItem& item, double width) {
    if (!item_problem(item).empty()) return std::nullopt;
    if (auto v = std::get_if<HeadGrid>(&item)) return head_grid_figure(*v);
    if (auto v = std::get_if<Matrix>(&item)) return matrix_figure(*v);
    if (auto v = std::get_if<Spectrum>(&item)) return spectrum_figure(*v);
    if (auto v = std::get_if<Graph>(&item)) return graph_figure(*v);
    if (auto v = std::get_if<TokenScores>(&item)) return token_chips_figure(*v, width);
    return std::nullopt;
}

// A long table (more than kInlineTableRows rows) waits for the appendix.
struct AppendixTable {
    std::string analysis;
    const Table* table;
};
bool goes_to_appendix(const ResultItem& item) {
    const Table* t = std::get_if<Table>(&item);
    return t && t->rows.size() > kInlineTableRows && item_problem(item).empty();
}

void item_pdf(PdfLayout& L, const ResultItem& item) {
    const ItemHeader& h = header_of(item);
    const std::optional<Figure> figure = item_figure(item, L.content_width());
    // Keep the heading and description with the figure (or a table's first rows).
    double keep = 40 + (h.description.empty() ? 0 : 13 * static_cast<double>(wrap_text(h.description, L.content_width(), 9).size()));
    keep += figure ? L.figure_height(*figure) : 60;
    L.ensure(std::min(keep, L.usable_height()));
    L.heading(fmt::format("{}  ({})", h.title.empty() ? h.key : h.title, kind_name(item)), 11.5, false);
    if (!h.description.empty()) L.paragraph(h.description, 9, Font::regular, kMuted);
    L.skip(3);
    const std::string problem = item_problem(item);
    if (!problem.empty()) {
        L.paragraph("This item cannot be drawn: " + problem, 9, Font::regular, {0x9b, 0x1c, 0x1c}, 0, {0xff, 0xf1, 0xf0});
        return;
    }
    if (figure) {
        L.figure(*figure);
    } else if (const Table* table = std::get_if<Table>(&item)) {
        table_pdf(L, *table);
    }
    L.skip(8);
}

}  // namespace

std::string render_pdf_report(const ResultsFile& results) {
    const Provenance& p = results.provenance;
    const std::string title = report_title(results);
    PdfLayout L(title);
    L.doc.set_title(title);
    L.doc.set_creation_date(p.created_utc);
    L.doc.set_producer(std::string("headscope ") + HEADSCOPE_VERSION);
    L.start();

    L.heading(title, 20, false);
    L.paragraph(fmt::format("{} {} on {} prompt{}{}.", results.results.size(),
                            results.results.size() == 1 ? "analysis" : "analyses", p.prompts.size(),
                            p.prompts.size() == 1 ? "" : "s", p.created_utc.empty() ? "" : ", run " + p.created_utc),
                10, Font::regular, kMuted);

    L.heading("Provenance", 15, true);
    L.key_values(provenance_rows(p));
    if (!p.prompts.empty()) {
        L.heading(p.prompts.size() == 1 ? "Prompt" : "Prompts", 11.5, false);
        // A prompt set of hundreds would fill pages: the PDF lists the first ones, the HTML
        // report (folded) and the .h5 keep them all.
        constexpr size_t kListed = 20;
        for (size_t i = 0; i < p.prompts.size() && i < kListed; ++i) {
            L.paragraph(p.prompts[i], 8.5, Font::mono, kInk, 0, {0xf3, 0xf5, 0xf8});
            L.skip(3);
        }
        if (p.prompts.size() > kListed)
            L.paragraph(fmt::format("... and {} more prompts (all {} are in the HTML report and the results file)",
                                    p.prompts.size() - kListed, p.prompts.size()),
                        8.5);
    }
    L.heading("Analyses", 11.5, false);
    std::vector<std::vector<std::string>> rows;
    for (const Result& r : results.results)
        rows.push_back({r.analysis_id, r.analysis_version, parameter_text(r), r.error.empty() ? "ok" : "failed"});
    L.table({"analysis", "version", "parameters", "status"}, rows, {false, false, false, false});

    std::vector<AppendixTable> appendix;
    for (const Result& r : results.results) {
        L.heading(fmt::format("{}  [{}{}]", r.analysis_title.empty() ? r.analysis_id : r.analysis_title, r.analysis_id,
                              r.analysis_version.empty() ? "" : " v" + r.analysis_version),
                  15, true);
        L.paragraph("Parameters: " + parameter_text(r), 9, Font::regular, kMuted);
        if (!r.error.empty())
            L.paragraph("This analysis failed: " + r.error, 9.5, Font::regular, {0x9b, 0x1c, 0x1c}, 0, {0xff, 0xf1, 0xf0});
        std::vector<std::string> lines = r.summary;
        for (auto& f : result_findings(r)) lines.push_back(std::move(f));
        L.skip(2);
        for (const auto& l : lines) L.paragraph("\xE2\x80\xA2 " + l, 9.5, Font::regular, kInk, 6);
        L.skip(6);
        for (const auto& item : r.items) {
            if (!goes_to_appendix(item)) {
                item_pdf(L, item);
                continue;
            }
            const Table& t = std::get<Table>(item);
            appendix.push_back({r.analysis_id, &t});
            L.paragraph(fmt::format("{} ({} rows): table A{} in the appendix.", t.title.empty() ? t.key : t.title,
                                    t.rows.size(), appendix.size()),
                        9, Font::regular, kMuted);
            L.skip(4);
        }
        if (r.items.empty() && r.error.empty()) L.paragraph("This analysis returned no items.", 9, Font::regular, kMuted);
    }
    if (!appendix.empty()) {
        L.heading("Appendix: long tables", 15, true);
        for (size_t i = 0; i < appendix.size(); ++i) {
            const Table& t = *appendix[i].table;
            L.ensure(80);
            L.heading(fmt::format("A{}. {}  [{}]", i + 1, t.title.empty() ? t.key : t.title, appendix[i].analysis), 11.5, false);
            if (!t.description.empty()) L.paragraph(t.description, 9, Font::regular, kMuted);
            L.skip(3);
            table_pdf(L, t);
            L.skip(8);
        }
    }
    return L.doc.finish();
}

}  // namespace headscope
