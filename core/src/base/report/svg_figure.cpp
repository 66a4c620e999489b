// Figure -> inline SVG.
#include <cmath>

#include <fmt/format.h>

#include "report/figure.hpp"
#include "report/png_encoder.hpp"
#include "report/report_text.hpp"

namespace headscope::report {

namespace {

// Coordinates with at most two decimals and no trailing zeros (deterministic and compact).
std::string n(double v) {
    if (!std::isfinite(v)) return "0";
    std::string s = fmt::format("{:.2f}", v);
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
    if (s == "-0") s = "0";
    return s;
}

std::string title_child(const std::string& tooltip) {
    return tooltip.empty() ? "" : "<title>" + html_escape(tooltip) + "</title>";
}

void close_with_tooltip(std::string& out, const std::string& tag, const std::string& tooltip) {
    if (tooltip.empty()) {
        out += "/>\n";
    } else {
        out += ">" + title_child(tooltip) + "</" + tag + ">\n";
    }
}

struct Writer {
    std::string& out;

    void operator()(const RectOp& r) {
        out += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"", n(r.x), n(r.y), n(r.w),
                           n(r.h), css(r.fill));
        if (r.stroke) out += fmt::format(" stroke=\"{}\" stroke-width=\"0.5\"", css(r.stroke_colour));
        close_with_tooltip(out, "rect", r.tooltip);
    }
    void operator()(const LineOp& l) {
        out += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"{}\"{}/>\n",
                           n(l.x1), n(l.y1), n(l.x2), n(l.y2), css(l.colour), n(l.width),
                           l.dashed ? " stroke-dasharray=\"4 3\"" : "");
    }
    void operator()(const PolylineOp& p) {
        if (p.xy.size() < 4) return;
        out += "<polyline fill=\"none\" stroke-linejoin=\"round\" points=\"";
        for (size_t i = 0; i + 1 < p.xy.size(); i += 2) out += (i ? " " : "") + n(p.xy[i]) + "," + n(p.xy[i + 1]);
        out += fmt::format("\" stroke=\"{}\" stroke-width=\"{}\"/>\n", css(p.colour), n(p.width));
    }
    void operator()(const CurveOp& c) {
        out += fmt::format("<path d=\"M{} {} C{} {} {} {} {} {}\" fill=\"none\" stroke=\"{}\" stroke-width=\"{}\"{}",
                           n(c.x0), n(c.y0), n(c.x1), n(c.y1), n(c.x2), n(c.y2), n(c.x3), n(c.y3), css(c.colour),
                           n(c.width), c.dashed ? " stroke-dasharray=\"4 3\"" : "");
        close_with_tooltip(out, "path", c.tooltip);
    }
    void operator()(const CircleOp& c) {
        out += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"{}\" stroke=\"{}\" stroke-width=\"1\"", n(c.cx),
                           n(c.cy), n(c.r), css(c.fill), css(c.stroke));
        close_with_tooltip(out, "circle", c.tooltip);
    }
    void operator()(const TextOp& t) {
        const char* anchor = t.anchor == Anchor::middle ? "middle" : t.anchor == Anchor::end ? "end" : "start";
        out += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"{}\"", n(t.x), n(t.y), n(t.size));
        if (t.anchor != Anchor::start) out += fmt::format(" text-anchor=\"{}\"", anchor);
        if (t.bold) out += " font-weight=\"bold\"";
        if (t.mono) out += " font-family=\"Courier New, Courier, monospace\" xml:space=\"preserve\"";
        if (!(t.colour == Rgb{0x22, 0x22, 0x22})) out += fmt::format(" fill=\"{}\"", css(t.colour));
        if (t.vertical) out += fmt::format(" transform=\"rotate(-90 {} {})\"", n(t.x), n(t.y));
        out += ">" + html_escape(t.text) + "</text>\n";
    }
    void operator()(const ImageOp& im) {
        if (im.pixels_w <= 0 || im.pixels_h <= 0) return;
        out += fmt::format(
            "<image x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" preserveAspectRatio=\"none\" "
            "style=\"image-rendering:crisp-edges;image-rendering:pixelated\" href=\"data:image/png;base64,{}\"/>\n",
            n(im.x), n(im.y), n(im.w), n(im.h), base64_encode(encode_png_rgb(im.pixels_w, im.pixels_h, im.rgb)));
    }
};

}  // namespace

std::string to_svg(const Figure& figure) {
    std::string out = fmt::format(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" role=\"img\" "
        "aria-label=\"{2}\" font-family=\"Helvetica, Arial, 'Liberation Sans', 'Nimbus Sans', sans-serif\">\n",
        n(std::ceil(figure.width)), n(std::ceil(figure.height)), html_escape(figure.label));
    Writer w{out};
    for (const auto& op : figure.ops) std::visit(w, op);
    out += "</svg>";
    return out;
}

}  // namespace headscope::report
