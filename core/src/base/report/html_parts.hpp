// Pieces of the HTML report (html_report.cpp puts them together).
#pragma once

#include <string>

#include "headscope/report/findings.hpp"
#include "headscope/sdk/result_store.hpp"

namespace headscope::report {

// One item as a <figure id="anchor"> with its title, description and drawing.
void item_html(std::string& out, const ResultItem& item, const std::string& anchor);

// The Findings section (key results, the heads that matter) and the head cards.
void findings_html(std::string& out, const ResultsFile& results, const Findings& findings);
void head_cards_html(std::string& out, const ResultsFile& results, const Findings& findings);

// "+0.517" for a diverging score, "0.517" otherwise (3 significant digits).
std::string score_text(double value, Scale scale);

}  // namespace headscope::report
