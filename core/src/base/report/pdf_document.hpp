// A small PDF 1.4 writer: pages of text in the standard Type1 fonts (Helvetica,
// Helvetica-Bold, Courier; WinAnsi encoding), lines, filled rectangles, polylines, Bezier
// curves and RGB images; no compression, no external programs. Coordinates are in points
// from the page's top-left corner, y downwards (converted to PDF's bottom-left origin here).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "report/figure.hpp"
#include "report/text_metrics.hpp"

namespace headscope::report {

class PdfDocument {
public:
    static constexpr double kA4Width = 595.28, kA4Height = 841.89;

    explicit PdfDocument(double page_width = kA4Width, double page_height = kA4Height);

    double page_width() const { return width_; }
    double page_height() const { return height_; }
    size_t page_count() const { return pages_.size(); }
    void new_page();  // drawing before the first new_page() starts one

    void text(double x, double y, const std::string& utf8, double size, Font font = Font::regular,
              Rgb colour = {0x22, 0x22, 0x22}, Anchor anchor = Anchor::start, bool vertical = false);
    void line(double x1, double y1, double x2, double y2, Rgb colour, double width = 1, bool dashed = false);
    void fill_rect(double x, double y, double w, double h, Rgb colour);
    void stroke_rect(double x, double y, double w, double h, Rgb colour, double width = 0.5);
    void polyline(const std::vector<double>& xy, Rgb colour, double width = 1);
    void curve(const CurveOp& c);
    void circle(double cx, double cy, double r, Rgb fill, Rgb stroke);
    // rgb: pixels_w * pixels_h * 3 bytes, row 0 at the top.
    void image(double x, double y, double w, double h, int pixels_w, int pixels_h, const std::vector<uint8_t>& rgb);

    // Draws a figure with its top-left corner at (x, y), scaled by `scale`.
    void draw_figure(const Figure& figure, double x, double y, double scale);

    // Document information (shown by PDF viewers and pdfinfo).
    void set_title(const std::string& title) { title_ = title; }
    void set_creation_date(const std::string& iso_utc) { created_ = iso_utc; }  // "YYYY-MM-DDTHH:MM:SSZ"
    void set_producer(const std::string& producer) { producer_ = producer; }

    // The complete file.
    std::string finish() const;

private:
    struct Page {
        std::string content;
        std::vector<size_t> images;  // indices into images_
    };
    struct Image {
        int w = 0, h = 0;
        std::vector<uint8_t> rgb;
    };
    Page& page();
    double py(double y) const { return height_ - y; }

    double width_, height_;
    std::vector<Page> pages_;
    std::vector<Image> images_;
    std::string title_, created_, producer_;
};

}  // namespace headscope::report
