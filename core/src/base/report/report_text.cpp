#include "report/report_text.hpp"

#include <cmath>

#include <fmt/format.h>

#include "tokenizers/utf8.hpp"

namespace headscope::report {

namespace {
// Characters that are not allowed in HTML/XML text (C0 controls other than tab/newline, DEL,
// C1 controls, noncharacters) become visible stand-ins.
char32_t visible(char32_t cp) {
    if (cp < 0x20) return 0x2400 + cp;
    if (cp == 0x7F) return 0x2421;
    if (cp >= 0x80 && cp < 0xA0) return 0xFFFD;
    if (cp == 0xFFFE || cp == 0xFFFF) return 0xFFFD;
    return cp;
}
}  // namespace

std::string clean_utf8(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    for (char32_t cp : utf8::decode(text)) utf8::append(out, cp == '\n' || cp == '\t' ? cp : visible(cp));
    return out;
}

std::string html_escape(const std::string& text) {
    std::string out;
    out.reserve(text.size() + text.size() / 8);
    for (char c : clean_utf8(text)) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
    return out;
}

std::string token_display(const std::string& token) {
    if (token.empty()) return "\u2205";
    std::string out;
    for (char32_t cp : utf8::decode(token)) {
        if (cp == '\n') out += "\u21B5";
        else if (cp == '\t') out += "\u21E5";
        else if (cp == '\r') out += "\u240D";
        else utf8::append(out, visible(cp));
    }
    return out;
}

std::string truncate_text(const std::string& text, size_t max_chars) {
    std::vector<char32_t> cps = utf8::decode(text);
    if (cps.size() <= max_chars) return text;
    std::string out;
    for (size_t i = 0; i + 1 < max_chars && i < cps.size(); ++i) utf8::append(out, cps[i]);
    out += "\u2026";
    return out;
}

std::string format_number(double v, int digits) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    if (v == 0) return "0";
    std::string s = fmt::format("{:.{}g}", v, digits);
    return s;
}

std::string mid_sentence(const std::string& title) {
    if (title.size() >= 2 && title[0] >= 'A' && title[0] <= 'Z' && title[1] >= 'a' && title[1] <= 'z') {
        std::string out = title;
        out[0] = static_cast<char>(out[0] - 'A' + 'a');
        return out;
    }
    return title;
}

std::string anchor_id(const std::string& text) {
    std::string out;
    for (char c : text) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
        out += ok ? c : '-';
    }
    return out;
}

}  // namespace headscope::report
