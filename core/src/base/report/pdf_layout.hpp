// Flowing the PDF report onto A4 pages: a cursor that moves down the page, headings kept with
// what follows, wrapped paragraphs, tables whose header repeats on every page, and figures scaled
// to fit — small ones two side by side. Nothing is drawn across a page edge: whatever does not fit
// in the room left starts a new page.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "report/figure.hpp"
#include "report/pdf_document.hpp"

namespace headscope::report {

inline const Rgb kInk{0x1d, 0x24, 0x33}, kMuted{0x5b, 0x65, 0x77}, kRule{0xdd, 0xe2, 0xea}, kHeaderFill{0xf0, 0xf3, 0xf8};
inline const Rgb kWhite{255, 255, 255};

class PdfLayout {
public:
    explicit PdfLayout(std::string title) : title_(std::move(title)) {}

    PdfDocument doc;
    static constexpr double kMargin = 50, kBottom = 56, kGutter = 14;
    double content_width() const { return doc.page_width() - 2 * kMargin; }
    double usable_height() const { return doc.page_height() - kMargin - kBottom; }
    double column_width() const { return (content_width() - kGutter) / 2; }
    double y() const { return y_; }
    double room() const { return doc.page_height() - kBottom - y_; }  // left on this page

    void start() { page_break(); }
    // Starts a new page when `h` more points do not fit.
    void ensure(double h);
    void page_break();
    void skip(double h);

    void heading(const std::string& text, double size, bool rule);
    void paragraph(const std::string& text, double size = 10, Font font = Font::regular, Rgb colour = kInk,
                   double indent = 0, Rgb background = kWhite);
    // Label/value rows (values wrapped).
    void key_values(const std::vector<std::pair<std::string, std::string>>& rows);
    // A table with a header row repeated on every page; cells are cut to fit their column.
    void table(const std::vector<std::string>& columns, const std::vector<std::vector<std::string>>& rows,
               const std::vector<bool>& numeric, double size = 8);

    // Figures: scaled to at most 0.85 pt per CSS pixel and to the width (and height) available.
    double figure_scale(const Figure& f, double width) const;
    double figure_height(const Figure& f, double width) const { return f.height * figure_scale(f, width) + 6; }
    void figure(const Figure& f);
    // A figure no wider than a column goes to the left or right column of the current row; the
    // cursor moves below the row when it is complete (or at flush_columns / any other output).
    bool fits_column(const Figure& f) const;
    void column_figure(const Figure& f, const std::string& title, const std::string& description);
    void flush_columns();

private:
    std::string title_;
    double y_ = kMargin;
    // The open row of column figures: its top, the bottom so far, and whether the left is taken.
    bool row_open_ = false;
    double row_top_ = 0, row_bottom_ = 0;
};

}  // namespace headscope::report
