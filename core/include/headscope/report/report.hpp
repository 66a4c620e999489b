// Reports: a self-contained HTML page (inline CSS and SVG, no external assets) and a PDF with
// the same content, rendered from a ResultsFile alone (no model needed). The output depends only
// on the results: the date shown is the results' created_utc, so re-rendering the same .h5
// gives byte-identical files.
#pragma once

#include <string>

#include "headscope/sdk/result_store.hpp"

namespace headscope {

// The report's title, e.g. "headscope report: stories260K.bin".
std::string report_title(const ResultsFile& results);

// The whole HTML document / PDF file as bytes.
std::string render_html_report(const ResultsFile& results);
std::string render_pdf_report(const ResultsFile& results);

// Writes the HTML and/or the PDF (an empty path skips that one). Each write is atomic: a
// temporary file in the same folder, renamed into place. Throws IoError.
void write_report_files(const ResultsFile& results, const std::string& html_path, const std::string& pdf_path);

// Reads results.h5 and writes its report(s): what `headscope report` and `headscope analyze
// --report` call. Throws FormatError / IoError.
void render_report_files(const std::string& results_h5, const std::string& html_path, const std::string& pdf_path);

}  // namespace headscope
