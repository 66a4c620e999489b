#include "report/text_metrics.hpp"

#include <vector>

#include "report/report_text.hpp"
#include "tokenizers/utf8.hpp"

namespace headscope::report {

namespace {

// Advance widths (1/1000 em) from Adobe's AFM files for the standard fonts, WinAnsi codes 32-126.
constexpr short kHelvetica[95] = {
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,  // space - /
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556,                                // 0 - 9
    278, 278, 584, 584, 584, 556, 1015,                                              // : - @
    667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833,                 // A - M
    722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611,                 // N - Z
    278, 278, 278, 469, 556, 333,                                                    // [ - `
    556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833,                 // a - m
    556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500,                 // n - z
    334, 260, 334, 584};
constexpr short kHelveticaBold[95] = {
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278,  // space - /
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556,                                // 0 - 9
    333, 333, 584, 584, 584, 611, 975,                                               // : - @
    722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833,                 // A - M
    722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611,                 // N - Z
    333, 278, 333, 584, 556, 333,                                                    // [ - `
    556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889,                 // a - m
    611, 611, 611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500,                 // n - z
    389, 280, 389, 584};
// Helvetica, WinAnsi codes 128-255 (0 = undefined in Windows-1252); used for both weights.
constexpr short kHelveticaHigh[128] = {
    556, 0,   222, 556, 333, 1000, 556, 556, 333, 1000, 667, 333, 1000, 0,   611, 0,    // 0x80
    0,   222, 222, 333, 333, 350,  556, 1000, 333, 1000, 500, 333, 944, 0,   500, 667,  // 0x90
    278, 333, 556, 556, 556, 556,  260, 556, 333, 737,  370, 556, 584, 333, 737, 333,   // 0xA0
    400, 584, 333, 333, 333, 556,  537, 278, 333, 333,  365, 556, 834, 834, 834, 611,   // 0xB0
    667, 667, 667, 667, 667, 667,  1000, 722, 667, 667, 667, 667, 278, 278, 278, 278,   // 0xC0
    722, 722, 778, 778, 778, 778,  778, 584, 778, 722,  722, 722, 722, 667, 667, 611,   // 0xD0
    556, 556, 556, 556, 556, 556,  889, 500, 556, 556,  556, 556, 278, 278, 278, 278,   // 0xE0
    556, 556, 556, 556, 556, 556,  556, 584, 611, 556,  556, 556, 556, 500, 556, 500};  // 0xF0

// Unicode code points of Windows-1252 bytes 0x80-0x9F (0 = undefined).
constexpr char32_t kCp1252High[32] = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};

// Stand-ins for characters the report itself uses that WinAnsi lacks.
const char* fallback(char32_t cp) {
    switch (cp) {
        case 0x2192: return "->";
        case 0x2190: return "<-";
        case 0x21B5: return "\xB6";  // pilcrow for a newline token
        case 0x21E5: return "\xBB";  // tab
        case 0x2205: return "(empty)";
        case 0x2212: return "-";
        case 0x2264: return "<=";
        case 0x2265: return ">=";
        case 0x2248: return "~";
        case 0x221D: return "~";
        case 0x00A0: return " ";
        case 0x2016: return "||";      // double vertical line (norms)
        case 0x1D40: return "^T";      // modifier T (transpose)
        case 0x03BB: return "lambda";
        case 0x03A3: return "Sum";
        case 0x03C3: return "sigma";
        case 0x03C1: return "rho";
        case 0x2211: return "Sum";
        case 0x221A: return "sqrt";
        case 0x2260: return "!=";
        case 0x2207: return "grad ";
        default: return nullptr;
    }
}

int width_of_byte(unsigned char b, Font font) {
    if (font == Font::mono) return 600;
    if (b >= 32 && b <= 126) return font == Font::bold ? kHelveticaBold[b - 32] : kHelvetica[b - 32];
    if (b >= 128) {
        int w = kHelveticaHigh[b - 128];
        return w ? w : 556;
    }
    return 278;
}

}  // namespace

std::string to_winansi(const std::string& utf8) {
    std::string out;
    out.reserve(utf8.size());
    for (char32_t cp : utf8::decode(utf8)) {
        if (cp < 0x20 || cp == 0x7F) {
            out += ' ';
        } else if (cp < 0x80 || (cp >= 0xA0 && cp <= 0xFF)) {
            out += static_cast<char>(cp);
        } else if (const char* f = fallback(cp)) {
            out += f;
        } else {
            char mapped = '?';
            for (int i = 0; i < 32; ++i)
                if (kCp1252High[i] == cp) mapped = static_cast<char>(0x80 + i);
            out += mapped;
        }
    }
    return out;
}

double text_width(const std::string& utf8, double size, Font font) {
    double units = 0;
    for (unsigned char b : to_winansi(utf8)) units += width_of_byte(b, font);
    return units * size / 1000.0;
}

double text_extent(const std::string& utf8, double size, Font font) { return text_width(utf8, size, font) * 1.15; }

std::vector<std::string> wrap_text(const std::string& text, double width, double size, Font font) {
    std::vector<std::string> lines;
    std::string line;
    auto flush = [&] {
        lines.push_back(line);
        line.clear();
    };
    size_t i = 0;
    while (i <= text.size()) {
        size_t end = text.find_first_of(" \n", i);
        if (end == std::string::npos) end = text.size();
        std::string word = text.substr(i, end - i);
        // A word wider than a whole line goes on lines of its own, cut at code points.
        if (text_width(word, size, font) > width) {
            if (!line.empty()) flush();
            std::string chunk;
            for (char32_t cp : utf8::decode(word)) {
                std::string next = chunk;
                utf8::append(next, cp);
                if (!chunk.empty() && text_width(next, size, font) > width) {
                    lines.push_back(chunk);
                    chunk.clear();
                    utf8::append(chunk, cp);
                } else {
                    chunk = std::move(next);
                }
            }
            word = chunk;
        }
        std::string candidate = line.empty() ? word : line + " " + word;
        if (!line.empty() && text_width(candidate, size, font) > width) {
            flush();
            line = word;
        } else {
            line = candidate;
        }
        if (end < text.size() && text[end] == '\n') flush();
        i = end + 1;
    }
    if (!line.empty() || lines.empty()) lines.push_back(line);
    return lines;
}

}  // namespace headscope::report
