// Text measurement with the PDF standard fonts' metrics (Helvetica, Helvetica-Bold, Courier),
// used to lay out both the PDF and the SVG figures (browsers' Helvetica/Arial are metrically
// compatible), and the mapping of UTF-8 text to the PDF fonts' WinAnsi encoding.
#pragma once

#include <string>
#include <vector>

namespace headscope::report {

enum class Font { regular, bold, mono };

// Width in the units of `size` (points or pixels).
double text_width(const std::string& utf8, double size, Font font = Font::regular);

// Room to leave for text in figures: text_width plus 15%, since a browser without Helvetica or
// Arial (e.g. one with DejaVu Sans only) draws the SVG's text wider than the PDF fonts.
double text_extent(const std::string& utf8, double size, Font font = Font::regular);

// UTF-8 -> Windows-1252 bytes; characters outside it become '?'. Control characters become ' '.
std::string to_winansi(const std::string& utf8);

// Words of `text` wrapped into lines no wider than `width` (a word longer than a line is cut).
std::vector<std::string> wrap_text(const std::string& text, double width, double size, Font font = Font::regular);

}  // namespace headscope::report
