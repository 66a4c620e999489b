// A device-independent drawing: the report's figures are built once as a list of primitive
// operations and then written as inline SVG (HTML report) or as PDF content (PDF report), so
// both show the same thing. Units are CSS pixels; y grows downwards.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "headscope/colour_map.hpp"

namespace headscope::report {

struct RectOp {
    double x = 0, y = 0, w = 0, h = 0;
    Rgb fill;
    bool stroke = false;  // a thin outline in stroke_colour
    Rgb stroke_colour{0x88, 0x88, 0x88};
    std::string tooltip = {};  // SVG <title>; not drawn in PDF
};

struct LineOp {
    double x1 = 0, y1 = 0, x2 = 0, y2 = 0;
    Rgb colour{0x33, 0x33, 0x33};
    double width = 1;
    bool dashed = false;
};

struct PolylineOp {
    std::vector<double> xy;  // x0, y0, x1, y1, ...
    Rgb colour;
    double width = 1.5;
};

// A cubic Bezier from (x0, y0) to (x3, y3).
struct CurveOp {
    double x0 = 0, y0 = 0, x1 = 0, y1 = 0, x2 = 0, y2 = 0, x3 = 0, y3 = 0;
    Rgb colour;
    double width = 1;
    bool dashed = false;
    std::string tooltip = {};
};

struct CircleOp {
    double cx = 0, cy = 0, r = 0;
    Rgb fill;
    Rgb stroke{0x33, 0x33, 0x33};
    std::string tooltip = {};
};

enum class Anchor { start, middle, end };

struct TextOp {
    double x = 0, y = 0;  // baseline point
    std::string text;     // UTF-8
    double size = 11;
    Anchor anchor = Anchor::start;
    bool bold = false;
    bool vertical = false;  // rotated 90 degrees counter-clockwise (reads bottom to top)
    Rgb colour{0x22, 0x22, 0x22};
    bool mono = false;  // Courier instead of Helvetica
};

// An RGB raster (row 0 at the top) stretched over the rectangle, drawn without smoothing.
struct ImageOp {
    double x = 0, y = 0, w = 0, h = 0;
    int pixels_w = 0, pixels_h = 0;
    std::vector<uint8_t> rgb;  // pixels_w * pixels_h * 3
};

using FigureOp = std::variant<RectOp, LineOp, PolylineOp, CurveOp, CircleOp, TextOp, ImageOp>;

struct Figure {
    double width = 0, height = 0;
    std::string label;  // accessible name (aria-label)
    std::vector<FigureOp> ops;
};

// Inline <svg> element for the HTML report.
std::string to_svg(const Figure& figure);

}  // namespace headscope::report
