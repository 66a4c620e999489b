// What both report renderers share: the title, the provenance rows, analysis parameter lines,
// how table cells print, and the row limits for tables.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "headscope/sdk/result_store.hpp"

namespace headscope::report {

// Label/value rows of the provenance section (values are plain UTF-8, not escaped).
std::vector<std::pair<std::string, std::string>> provenance_rows(const Provenance& p);

// "name=value, name=value" (sorted by name), or "defaults" when there are none.
std::string parameter_text(const Result& r);

std::string cell_text(const Cell& c);
bool cell_is_number(const Cell& c);

// HTML tables longer than this show their first rows only (all rows stay in the .h5).
constexpr size_t kHtmlTableRows = 2000;

}  // namespace headscope::report
