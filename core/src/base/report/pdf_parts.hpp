// Pieces of the PDF report (pdf_report.cpp puts them together).
#pragma once

#include "headscope/report/findings.hpp"
#include "report/pdf_layout.hpp"

namespace headscope::report {

// The Findings page: key results in words, the table of the heads that matter.
void findings_pdf(PdfLayout& L, const ResultsFile& results, const Findings& findings);
// The head cards, two per row.
void head_cards_pdf(PdfLayout& L, const ResultsFile& results, const Findings& findings);

}  // namespace headscope::report
