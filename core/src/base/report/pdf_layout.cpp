#include "report/pdf_layout.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "report/table_layout.hpp"
#include "report/text_metrics.hpp"
#include "report/report_text.hpp"
#include "tokenizers/utf8.hpp"

namespace headscope::report {

void PdfLayout::ensure(double h) {
    flush_columns();
    if (y_ + h > doc.page_height() - kBottom) page_break();
}

void PdfLayout::page_break() {
    row_open_ = false;
    doc.new_page();
    y_ = kMargin;
    doc.text(doc.page_width() / 2, doc.page_height() - 28, fmt::format("{} \xC2\xB7 page {}", title_, doc.page_count()), 8,
             Font::regular, kMuted, Anchor::middle);
}

void PdfLayout::skip(double h) {
    flush_columns();
    y_ += h;
}

void PdfLayout::heading(const std::string& text, double size, bool rule) {
    ensure(size * 1.4 + 40);  // keep a heading with what follows
    y_ += size * 0.6;
    for (const std::string& line : wrap_text(text, content_width(), size, Font::bold)) {
        ensure(size * 1.35);
        doc.text(kMargin, y_ + size, line, size, Font::bold, kInk);
        y_ += size * 1.35;
    }
    if (rule) {
        doc.line(kMargin, y_, kMargin + content_width(), y_, kRule, 1.2);
        y_ += 6;
    }
}

void PdfLayout::paragraph(const std::string& text, double size, Font font, Rgb colour, double indent, Rgb background) {
    const bool filled = !(background == kWhite);
    const double lh = size * 1.35, width = content_width() - indent - (filled ? 8 : 0);
    for (const std::string& line : wrap_text(text, width, size, font)) {
        ensure(lh);
        if (filled) doc.fill_rect(kMargin + indent, y_, content_width() - indent, lh, background);
        doc.text(kMargin + indent + (filled ? 4 : 0), y_ + size, line, size, font, colour);
        y_ += lh;
    }
}

void PdfLayout::key_values(const std::vector<std::pair<std::string, std::string>>& rows) {
    const double label_w = 110, size = 9, lh = size * 1.4;
    for (const auto& [label, value] : rows) {
        const bool mono = label == "Model SHA-256" || label == "Command line";
        const auto lines = wrap_text(value, content_width() - label_w, mono ? 8 : size, mono ? Font::mono : Font::regular);
        ensure(lh * static_cast<double>(std::min<size_t>(lines.size(), 3)));
        doc.text(kMargin, y_ + size, label, size, Font::bold, kInk);
        for (const auto& l : lines) {
            ensure(lh);
            doc.text(kMargin + label_w, y_ + size, l, mono ? 8 : size, mono ? Font::mono : Font::regular, kInk);
            y_ += lh;
        }
    }
}

void PdfLayout::table(const std::vector<std::string>& columns, const std::vector<std::vector<std::string>>& rows,
                      const std::vector<bool>& numeric, double size) {
    flush_columns();
    const double lh = size * 1.6, pad = 3;
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
            doc.text(right ? x + want[c] - pad : x + pad, y_ + lh - size * 0.5, cell, size, header ? Font::bold : Font::regular,
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

double PdfLayout::figure_scale(const Figure& f, double width) const {
    if (f.width <= 0 || f.height <= 0) return 1;
    // Figures are laid out in CSS pixels; 0.85 pt per pixel keeps them compact on paper, and none
    // takes more than 55% of a page (the HTML report has every one at full size).
    return std::min({0.85, width / f.width, 0.55 * usable_height() / f.height});
}

void PdfLayout::figure(const Figure& f) {
    flush_columns();
    if (f.width <= 0 || f.height <= 0) return;
    const double s = figure_scale(f, content_width());
    ensure(f.height * s);
    doc.draw_figure(f, kMargin, y_, s);
    y_ += f.height * s + 6;
}

bool PdfLayout::fits_column(const Figure& f) const {
    if (f.width <= 0 || f.height <= 0) return false;
    // In a column when it keeps at least 45% of the size it would have across the page (and is
    // not drawn below 0.3 pt per pixel): small grids and square matrices go two by two.
    const double column = figure_scale(f, column_width()), full = figure_scale(f, content_width());
    return column >= 0.3 && column >= 0.45 * full;
}

void PdfLayout::column_figure(const Figure& f, const std::string& title, const std::string& description) {
    const double w = column_width(), s = figure_scale(f, w);
    std::vector<std::string> lines = description.empty() ? std::vector<std::string>{} : wrap_text(description, w, 7.5);
    if (lines.size() > 4) {
        lines.resize(4);
        lines.back() = truncate_text(lines.back(), std::max<size_t>(1, utf8::decode(lines.back()).size() - 2)) ;
    }
    const double head = (title.empty() ? 0 : 13) + 9.5 * static_cast<double>(lines.size()) + (lines.empty() ? 0 : 3);
    const double h = head + f.height * s + 10;
    double x = kMargin;
    if (row_open_ && row_top_ + h <= doc.page_height() - kBottom) {
        x = kMargin + w + kGutter;  // beside the left figure of the open row
    } else {
        flush_columns();
        if (y_ + h > doc.page_height() - kBottom) page_break();
        row_top_ = row_bottom_ = y_;
    }
    double y = row_top_;
    if (!title.empty()) {
        doc.text(x, y + 9, truncate_text(title, static_cast<size_t>(w / 4.8)), 9, Font::bold, kInk);
        y += 13;
    }
    for (const std::string& l : lines) {
        doc.text(x, y + 7.5, l, 7.5, Font::regular, kMuted);
        y += 9.5;
    }
    if (!lines.empty()) y += 3;
    doc.draw_figure(f, x, y, s);
    row_bottom_ = std::max(row_bottom_, row_top_ + h);
    row_open_ = x == kMargin;  // the right column closes the row
    y_ = row_open_ ? row_top_ : row_bottom_;
}

void PdfLayout::flush_columns() {
    if (row_open_) {
        row_open_ = false;
        y_ = row_bottom_;
    }
}

}  // namespace headscope::report
