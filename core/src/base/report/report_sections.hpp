// How a report is organised, shared by the HTML and the PDF renderer: the Findings page first
// (headscope/report/findings.hpp), then the provenance, then one detail section per analysis with
// its main items, then an appendix with the reference material: long tables, items marked
// `appendix`, and the members of a series beyond the first kSeriesInline (a series is three or more
// items of one result whose keys differ only in a trailing number or head: spectrum_L0H0,
// spectrum_L0H1, ... or settling_depth_p0, settling_depth_p1, ...).
#pragma once

#include <string>
#include <vector>

#include "headscope/sdk/result.hpp"

namespace headscope::report {

constexpr size_t kSeriesInline = 2;

// The key without its trailing "_L{l}H{h}", "_p{n}" or "_{n}" ("spectrum_L0H3" -> "spectrum"); the
// key itself when it has none.
std::string series_stem(const std::string& key);

struct PlacedItem {
    const ResultItem* item = nullptr;
    bool appendix = false;
    std::string series;   // the stem when the item belongs to a series, else empty
    size_t series_size = 0;
};

// Every item of the result with where it goes, in item order.
std::vector<PlacedItem> place_items(const Result& r);

}  // namespace headscope::report
