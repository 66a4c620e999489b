// Text helpers shared by the HTML and PDF reports: escaping, UTF-8 clean-up, number formatting.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace headscope::report {

// Replaces invalid UTF-8 (e.g. a lone byte of a byte-level BPE token) with U+FFFD and control
// characters other than \n and \t with their visible "control picture" (U+2400 + c).
std::string clean_utf8(const std::string& text);

// Escapes & < > " ' after clean_utf8: safe in element content and in quoted attributes.
std::string html_escape(const std::string& text);

// A token as shown in chips and labels: newline -> "↵", tab -> "⇥", carriage return -> "␍",
// other control characters as control pictures; an empty token as "∅".
std::string token_display(const std::string& token);


// At most max_chars code points, with "…" when cut.
std::string truncate_text(const std::string& text, size_t max_chars);

// Deterministic short numbers: up to `digits` significant digits, no trailing zeros;
// "NaN", "inf", "-inf" for non-finite values; -0 as "0".
std::string format_number(double v, int digits = 4);

// Lower-cases the first letter of a title for use mid-sentence ("Induction score" ->
// "induction score"), leaving acronyms ("QK norm") alone.
std::string mid_sentence(const std::string& title);

// [A-Za-z0-9_-] only, for HTML ids built from analysis ids and item keys.
std::string anchor_id(const std::string& text);

}  // namespace headscope::report
