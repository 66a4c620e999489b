// The PDF report: the same story as the HTML report, flowed onto A4 pages — the Findings page,
// the head cards, the provenance, one section per analysis (small figures two side by side), then
// an appendix with the reference material in a compact form (every per-head spectrum as small
// multiples, long tables' first rows); per-prompt series beyond the first two are in the HTML
// report and the results file.
#include <algorithm>
#include <cmath>
#include <map>
#include <optional>

#include <fmt/format.h>

#include "headscope/report/report.hpp"
#include "report/figures.hpp"
#include "report/pdf_parts.hpp"
#include "report/report_model.hpp"
#include "report/report_sections.hpp"
#include "report/report_summary.hpp"
#include "report/report_text.hpp"
#include "report/table_layout.hpp"

namespace headscope {

namespace {

using namespace report;

// Rows of a table the appendix shows.
constexpr size_t kAppendixTableRows = 15;

void table_pdf(PdfLayout& L, const Table& v, size_t limit) {
    std::vector<std::vector<std::string>> rows;
    std::vector<bool> numeric(v.columns.size(), true);
    const size_t shown = std::min(v.rows.size(), limit);
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
        L.paragraph(fmt::format("The first {} of {} rows; every row is in the HTML report and the results file.", shown,
                                v.rows.size()),
                    8.5, Font::regular, kMuted);
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

std::string item_title(const ResultItem& item) {
    const ItemHeader& h = header_of(item);
    return h.title.empty() ? h.key : h.title;
}

// One item: small figures go into the two-column flow with their title and description; larger
// ones and tables get a heading of their own.
void item_pdf(PdfLayout& L, const ResultItem& item, size_t table_rows) {
    const ItemHeader& h = header_of(item);
    const std::string problem = item_problem(item);
    const std::optional<Figure> figure = item_figure(item, L.column_width() / 0.85);
    if (figure && problem.empty() && !std::holds_alternative<TokenScores>(item) && L.fits_column(*figure)) {
        L.column_figure(*figure, item_title(item), h.description);
        return;
    }
    const std::optional<Figure> wide = std::holds_alternative<TokenScores>(item) ? item_figure(item, L.content_width())
                                                                                : figure;
    // Keep the heading and description with the figure (or a table's first rows).
    double keep = 40 + (h.description.empty() ? 0 : 13 * static_cast<double>(wrap_text(h.description, L.content_width(), 9).size()));
    keep += wide ? L.figure_height(*wide, L.content_width()) : 60;
    L.ensure(std::min(keep, L.usable_height()));
    L.heading(fmt::format("{}  ({})", item_title(item), kind_name(item)), 11.5, false);
    if (!h.description.empty()) L.paragraph(h.description, 9, Font::regular, kMuted);
    L.skip(3);
    if (!problem.empty()) {
        L.paragraph("This item cannot be drawn: " + problem, 9, Font::regular, {0x9b, 0x1c, 0x1c}, 0, {0xff, 0xf1, 0xf0});
        return;
    }
    if (wide) L.figure(*wide);
    else if (const Table* table = std::get_if<Table>(&item)) table_pdf(L, *table, table_rows);
    L.skip(8);
}

std::string analysis_heading(const Result& r) {
    return fmt::format("{}  [{}{}]", r.analysis_title.empty() ? r.analysis_id : r.analysis_title, r.analysis_id,
                       r.analysis_version.empty() ? "" : " v" + r.analysis_version);
}

// The appendix part of one analysis: spectra series as small multiples, other series named only,
// everything else drawn (tables cut to their first rows).
void appendix_pdf(PdfLayout& L, const Result& r, const std::vector<PlacedItem>& placed) {
    std::map<std::string, std::vector<const PlacedItem*>> series;
    std::vector<const PlacedItem*> single;
    for (const PlacedItem& p : placed) {
        if (!p.appendix) continue;
        if (!p.series.empty()) series[p.series].push_back(&p);
        else single.push_back(&p);
    }
    if (series.empty() && single.empty()) return;
    L.heading(analysis_heading(r), 12.5, false);
    for (const auto& [stem, members] : series) {
        std::vector<const Spectrum*> spectra;
        for (const PlacedItem* p : members)
            if (auto s = std::get_if<Spectrum>(p->item); s && item_problem(*p->item).empty()) spectra.push_back(s);
        if (spectra.size() == members.size()) {
            // Every member, including the ones shown in the analysis's section, on one figure.
            std::vector<const Spectrum*> all;
            for (const PlacedItem& p : placed)
                if (p.series == stem)
                    if (auto s = std::get_if<Spectrum>(p.item)) all.push_back(s);
            const Figure grid = spectra_grid_figure(all, L.content_width() / 0.85, 88);
            L.ensure(std::min(L.figure_height(grid, L.content_width()) + 30, L.usable_height()));
            L.paragraph(fmt::format("{} \xE2\x80\xA6 {}: all {} items as small multiples", all.front()->key,
                                    all.back()->key, all.size()),
                        9.5, Font::bold);
            L.figure(grid);
            continue;
        }
        L.paragraph(fmt::format("{} more items of the series \"{}\" ({} \xE2\x80\xA6 {}): in the HTML report's appendix "
                                "and the results file.",
                                members.size(), stem, header_of(*members.front()->item).key,
                                header_of(*members.back()->item).key),
                    8.5, Font::regular, kMuted);
        L.skip(4);
    }
    for (const PlacedItem* p : single) item_pdf(L, *p->item, kAppendixTableRows);
}

}  // namespace

std::string render_pdf_report(const ResultsFile& results) {
    const Provenance& p = results.provenance;
    const std::string title = report_title(results);
    const Findings findings = collect_findings(results);
    std::vector<const Result*> analyses;
    for (const Result& r : results.results) analyses.push_back(&r);
    PdfLayout L(title);
    L.doc.set_title(title);
    L.doc.set_creation_date(p.created_utc);
    L.doc.set_producer(std::string("headscope ") + HEADSCOPE_VERSION);
    L.start();

    L.heading(title, 20, false);
    L.paragraph(fmt::format("{} {} on {} prompt{}{}.", analyses.size(), analyses.size() == 1 ? "analysis" : "analyses",
                            p.prompts.size(), p.prompts.size() == 1 ? "" : "s",
                            p.created_utc.empty() ? "" : ", run " + p.created_utc),
                10, Font::regular, kMuted);
    findings_pdf(L, results, findings);
    head_cards_pdf(L, results, findings);

    L.heading("Provenance", 15, true);
    L.key_values(provenance_rows(p));
    if (!p.prompts.empty()) {
        L.heading(p.prompts.size() == 1 ? "Prompt" : "Prompts", 11.5, false);
        // A prompt set of hundreds would fill pages: the PDF lists the first ones, the HTML
        // report (folded) and the .h5 keep them all.
        constexpr size_t kListed = 8;
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
    for (const Result* r : analyses)
        rows.push_back({r->analysis_id, r->analysis_version, parameter_text(*r), r->error.empty() ? "ok" : "failed"});
    L.table({"analysis", "version", "parameters", "status"}, rows, {false, false, false, false});

    std::vector<std::vector<PlacedItem>> placed;
    bool any_appendix = false;
    for (const Result* r : analyses) {
        placed.push_back(place_items(*r));
        for (const PlacedItem& item : placed.back()) any_appendix = any_appendix || item.appendix;
    }
    for (size_t i = 0; i < analyses.size(); ++i) {
        const Result& r = *analyses[i];
        L.heading(analysis_heading(r), 15, true);
        L.paragraph("Parameters: " + parameter_text(r), 9, Font::regular, kMuted);
        if (!r.error.empty())
            L.paragraph("This analysis failed: " + r.error, 9.5, Font::regular, {0x9b, 0x1c, 0x1c}, 0, {0xff, 0xf1, 0xf0});
        std::vector<std::string> lines = r.summary;
        for (auto& f : result_findings(r)) lines.push_back(std::move(f));
        L.skip(2);
        for (const auto& l : lines) L.paragraph("\xE2\x80\xA2 " + l, 9.5, Font::regular, kInk, 6);
        L.skip(6);
        size_t moved = 0;
        for (const PlacedItem& item : placed[i]) {
            if (item.appendix) ++moved;
            else item_pdf(L, *item.item, kInlineTableRows);
        }
        if (moved)
            L.paragraph(fmt::format("{} more item{} of this analysis: see the appendix.", moved, moved == 1 ? "" : "s"), 9,
                        Font::regular, kMuted);
        if (r.items.empty() && r.error.empty()) L.paragraph("This analysis returned no items.", 9, Font::regular, kMuted);
    }
    if (any_appendix) {
        L.page_break();
        L.heading("Appendix", 15, true);
        L.paragraph("Reference material: per-head spectra as small multiples, the first rows of long tables, reference "
                    "matrices. Per-prompt series beyond the first two prompts and every table row are in the HTML "
                    "report's appendix and the results file.",
                    9, Font::regular, kMuted);
        for (size_t i = 0; i < analyses.size(); ++i) appendix_pdf(L, *analyses[i], placed[i]);
    }
    L.flush_columns();
    return L.doc.finish();
}

}  // namespace headscope
