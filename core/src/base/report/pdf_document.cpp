#include "report/pdf_document.hpp"

#include <cmath>

#include <fmt/format.h>

#include "headscope/error.hpp"

namespace headscope::report {

namespace {

std::string n(double v) {
    if (!std::isfinite(v)) return "0";
    std::string s = fmt::format("{:.3f}", v);
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
    if (s == "-0") s = "0";
    return s;
}

std::string colour(Rgb c, const char* op) {
    return fmt::format("{} {} {} {}\n", n(c.r / 255.0), n(c.g / 255.0), n(c.b / 255.0), op);
}

// A PDF literal string of WinAnsi bytes: ( ) \ escaped, non-ASCII as octal.
std::string pdf_string(const std::string& winansi) {
    std::string out = "(";
    for (unsigned char c : winansi) {
        if (c == '(' || c == ')' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 32 || c >= 127) {
            out += fmt::format("\\{:03o}", c);
        } else {
            out += static_cast<char>(c);
        }
    }
    return out + ")";
}

const char* font_name(Font f) { return f == Font::bold ? "/F2" : f == Font::mono ? "/F3" : "/F1"; }

// "D:YYYYMMDDHHMMSSZ" from "YYYY-MM-DDTHH:MM:SSZ"; "" when it does not look like one.
std::string pdf_date(const std::string& iso) {
    if (iso.size() < 19) return "";
    std::string digits;
    for (size_t i = 0; i < 19; ++i)
        if (iso[i] >= '0' && iso[i] <= '9') digits += iso[i];
    return digits.size() == 14 ? "D:" + digits + "Z" : "";
}

}  // namespace

PdfDocument::PdfDocument(double page_width, double page_height) : width_(page_width), height_(page_height) {}

void PdfDocument::new_page() { pages_.emplace_back(); }

PdfDocument::Page& PdfDocument::page() {
    if (pages_.empty()) new_page();
    return pages_.back();
}

void PdfDocument::text(double x, double y, const std::string& utf8, double size, Font font, Rgb c, Anchor anchor,
                       bool vertical) {
    const std::string bytes = to_winansi(utf8);
    if (bytes.empty()) return;
    double shift = 0;
    if (anchor != Anchor::start) {
        const double w = text_width(utf8, size, font);
        shift = anchor == Anchor::middle ? w / 2 : w;
    }
    std::string& s = page().content;
    s += "BT\n" + colour(c, "rg");
    s += fmt::format("{} {} Tf\n", font_name(font), n(size));
    if (vertical)  // rotated 90 degrees counter-clockwise; the anchor shift runs along the page's y axis
        s += fmt::format("0 1 -1 0 {} {} Tm\n", n(x), n(py(y + shift)));
    else
        s += fmt::format("1 0 0 1 {} {} Tm\n", n(x - shift), n(py(y)));
    s += pdf_string(bytes) + " Tj\nET\n";
}

void PdfDocument::line(double x1, double y1, double x2, double y2, Rgb c, double width, bool dashed) {
    std::string& s = page().content;
    s += colour(c, "RG") + n(width) + " w\n";
    if (dashed) s += "[3 2] 0 d\n";
    s += fmt::format("{} {} m {} {} l S\n", n(x1), n(py(y1)), n(x2), n(py(y2)));
    if (dashed) s += "[] 0 d\n";
}

void PdfDocument::fill_rect(double x, double y, double w, double h, Rgb c) {
    page().content += colour(c, "rg") + fmt::format("{} {} {} {} re f\n", n(x), n(py(y + h)), n(w), n(h));
}

void PdfDocument::stroke_rect(double x, double y, double w, double h, Rgb c, double width) {
    page().content += colour(c, "RG") + n(width) + " w\n" + fmt::format("{} {} {} {} re S\n", n(x), n(py(y + h)), n(w), n(h));
}

void PdfDocument::polyline(const std::vector<double>& xy, Rgb c, double width) {
    if (xy.size() < 4) return;
    std::string& s = page().content;
    s += colour(c, "RG") + n(width) + " w 1 j\n";
    s += fmt::format("{} {} m\n", n(xy[0]), n(py(xy[1])));
    for (size_t i = 2; i + 1 < xy.size(); i += 2) s += fmt::format("{} {} l\n", n(xy[i]), n(py(xy[i + 1])));
    s += "S 0 j\n";
}

void PdfDocument::curve(const CurveOp& c) {
    std::string& s = page().content;
    s += colour(c.colour, "RG") + n(c.width) + " w\n";
    if (c.dashed) s += "[3 2] 0 d\n";
    s += fmt::format("{} {} m {} {} {} {} {} {} c S\n", n(c.x0), n(py(c.y0)), n(c.x1), n(py(c.y1)), n(c.x2), n(py(c.y2)),
                     n(c.x3), n(py(c.y3)));
    if (c.dashed) s += "[] 0 d\n";
}

void PdfDocument::circle(double cx, double cy, double r, Rgb fill, Rgb stroke) {
    const double k = 0.5523 * r;  // control-point distance of a quarter circle
    const double y = py(cy);
    std::string& s = page().content;
    s += colour(fill, "rg") + colour(stroke, "RG") + "0.8 w\n";
    s += fmt::format("{} {} m\n", n(cx + r), n(y));
    s += fmt::format("{} {} {} {} {} {} c\n", n(cx + r), n(y + k), n(cx + k), n(y + r), n(cx), n(y + r));
    s += fmt::format("{} {} {} {} {} {} c\n", n(cx - k), n(y + r), n(cx - r), n(y + k), n(cx - r), n(y));
    s += fmt::format("{} {} {} {} {} {} c\n", n(cx - r), n(y - k), n(cx - k), n(y - r), n(cx), n(y - r));
    s += fmt::format("{} {} {} {} {} {} c\n", n(cx + k), n(y - r), n(cx + r), n(y - k), n(cx + r), n(y));
    s += "b\n";
}

void PdfDocument::image(double x, double y, double w, double h, int pw, int ph, const std::vector<uint8_t>& rgb) {
    if (pw <= 0 || ph <= 0 || rgb.size() != static_cast<size_t>(pw) * static_cast<size_t>(ph) * 3)
        throw UsageError("PdfDocument::image: pixel buffer does not match the image size");
    images_.push_back(Image{pw, ph, rgb});
    Page& p = page();
    p.images.push_back(images_.size() - 1);
    // The image's unit square mapped onto the rectangle; sample row 0 lands at the top.
    p.content += fmt::format("q {} 0 0 {} {} {} cm /Im{} Do Q\n", n(w), n(h), n(x), n(py(y + h)), images_.size() - 1);
}

void PdfDocument::draw_figure(const Figure& f, double x0, double y0, double s) {
    auto X = [&](double x) { return x0 + x * s; };
    auto Y = [&](double y) { return y0 + y * s; };
    for (const auto& op : f.ops) {
        std::visit(
            [&](const auto& o) {
                using T = std::decay_t<decltype(o)>;
                if constexpr (std::is_same_v<T, RectOp>) {
                    fill_rect(X(o.x), Y(o.y), o.w * s, o.h * s, o.fill);
                    if (o.stroke) stroke_rect(X(o.x), Y(o.y), o.w * s, o.h * s, o.stroke_colour, 0.5 * s);
                } else if constexpr (std::is_same_v<T, LineOp>) {
                    line(X(o.x1), Y(o.y1), X(o.x2), Y(o.y2), o.colour, o.width * s, o.dashed);
                } else if constexpr (std::is_same_v<T, PolylineOp>) {
                    std::vector<double> xy(o.xy.size());
                    for (size_t i = 0; i + 1 < o.xy.size(); i += 2) xy[i] = X(o.xy[i]), xy[i + 1] = Y(o.xy[i + 1]);
                    polyline(xy, o.colour, o.width * s);
                } else if constexpr (std::is_same_v<T, CurveOp>) {
                    CurveOp c = o;
                    c.x0 = X(o.x0), c.x1 = X(o.x1), c.x2 = X(o.x2), c.x3 = X(o.x3);
                    c.y0 = Y(o.y0), c.y1 = Y(o.y1), c.y2 = Y(o.y2), c.y3 = Y(o.y3);
                    c.width = o.width * s;
                    curve(c);
                } else if constexpr (std::is_same_v<T, CircleOp>) {
                    circle(X(o.cx), Y(o.cy), o.r * s, o.fill, o.stroke);
                } else if constexpr (std::is_same_v<T, TextOp>) {
                    text(X(o.x), Y(o.y), o.text, o.size * s, o.mono ? Font::mono : o.bold ? Font::bold : Font::regular,
                         o.colour, o.anchor, o.vertical);
                } else if constexpr (std::is_same_v<T, ImageOp>) {
                    image(X(o.x), Y(o.y), o.w * s, o.h * s, o.pixels_w, o.pixels_h, o.rgb);
                }
            },
            op);
    }
}

std::string PdfDocument::finish() const {
    std::vector<Page> pages = pages_;
    if (pages.empty()) pages.emplace_back();
    // Object numbers: 1 catalog, 2 page tree, 3-5 fonts, 6 info, then images, then per page
    // its page object and its content stream.
    const size_t first_image = 7, first_page = first_image + images_.size();
    const size_t count = first_page + 2 * pages.size();  // objects 1 .. count-1
    std::string out = "%PDF-1.4\n%\xE2\xE3\xCF\xD3\n";
    std::vector<size_t> offsets(count, 0);
    auto object = [&](size_t id, const std::string& body) {
        offsets[id] = out.size();
        out += fmt::format("{} 0 obj\n", id) + body + "\nendobj\n";
    };
    object(1, "<< /Type /Catalog /Pages 2 0 R >>");
    std::string kids;
    for (size_t i = 0; i < pages.size(); ++i) kids += fmt::format("{}{} 0 R", i ? " " : "", first_page + 2 * i);
    object(2, fmt::format("<< /Type /Pages /Kids [{}] /Count {} >>", kids, pages.size()));
    object(3, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>");
    object(4, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>");
    object(5, "<< /Type /Font /Subtype /Type1 /BaseFont /Courier /Encoding /WinAnsiEncoding >>");
    std::string info = "<< /Producer " + pdf_string(to_winansi(producer_.empty() ? "headscope" : producer_));
    if (!title_.empty()) info += " /Title " + pdf_string(to_winansi(title_));
    if (const std::string d = pdf_date(created_); !d.empty()) info += " /CreationDate " + pdf_string(d);
    object(6, info + " >>");
    for (size_t i = 0; i < images_.size(); ++i) {
        const Image& im = images_[i];
        std::string body = fmt::format(
            "<< /Type /XObject /Subtype /Image /Width {} /Height {} /ColorSpace /DeviceRGB /BitsPerComponent 8 "
            "/Interpolate false /Length {} >>\nstream\n",
            im.w, im.h, im.rgb.size());
        body.append(reinterpret_cast<const char*>(im.rgb.data()), im.rgb.size());
        body += "\nendstream";
        object(first_image + i, body);
    }
    for (size_t i = 0; i < pages.size(); ++i) {
        const size_t page_id = first_page + 2 * i, content_id = page_id + 1;
        std::string xobjects;
        for (size_t im : pages[i].images) xobjects += fmt::format(" /Im{} {} 0 R", im, first_image + im);
        object(page_id, fmt::format("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {} {}] /Contents {} 0 R /Resources << "
                                    "/Font << /F1 3 0 R /F2 4 0 R /F3 5 0 R >>{} >> >>",
                                    n(width_), n(height_), content_id,
                                    xobjects.empty() ? "" : " /XObject <<" + xobjects + " >>"));
        object(content_id, fmt::format("<< /Length {} >>\nstream\n", pages[i].content.size()) + pages[i].content +
                               "\nendstream");
    }
    const size_t xref = out.size();
    out += fmt::format("xref\n0 {}\n0000000000 65535 f \n", count);
    for (size_t id = 1; id < count; ++id) out += fmt::format("{:010} 00000 n \n", offsets[id]);
    out += fmt::format("trailer\n<< /Size {} /Root 1 0 R /Info 6 0 R >>\nstartxref\n{}\n%%EOF\n", count, xref);
    return out;
}

}  // namespace headscope::report
