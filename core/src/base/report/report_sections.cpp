#include "report/report_sections.hpp"

#include <cctype>
#include <map>

#include "report/table_layout.hpp"

namespace headscope::report {

namespace {
bool digits(const std::string& s, size_t from, size_t to) {
    if (from >= to) return false;
    for (size_t i = from; i < to; ++i)
        if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    return true;
}
}  // namespace

std::string series_stem(const std::string& key) {
    const size_t us = key.rfind('_');
    if (us == std::string::npos || us == 0) return key;
    const std::string tail = key.substr(us + 1);
    const size_t n = tail.size();
    const bool number = digits(tail, 0, n);
    const bool prompt = n >= 2 && tail[0] == 'p' && digits(tail, 1, n);
    bool head = false;
    if (n >= 4 && tail[0] == 'L') {
        const size_t h = tail.find('H');
        head = h != std::string::npos && digits(tail, 1, h) && digits(tail, h + 1, n);
    }
    return number || prompt || head ? key.substr(0, us) : key;
}

std::vector<PlacedItem> place_items(const Result& r) {
    std::map<std::string, size_t> count;
    for (const ResultItem& item : r.items) {
        const std::string& key = header_of(item).key;
        const std::string stem = series_stem(key);
        if (stem != key) ++count[stem];
    }
    std::map<std::string, size_t> seen;
    std::vector<PlacedItem> out;
    for (const ResultItem& item : r.items) {
        const ItemHeader& h = header_of(item);
        PlacedItem p;
        p.item = &item;
        const std::string stem = series_stem(h.key);
        if (stem != h.key && count[stem] >= 3) {
            p.series = stem;
            p.series_size = count[stem];
        }
        const Table* t = std::get_if<Table>(&item);
        p.appendix = h.appendix || (t && t->rows.size() > kInlineTableRows) ||
                     (!p.series.empty() && seen[p.series]++ >= kSeriesInline);
        out.push_back(p);
    }
    return out;
}

}  // namespace headscope::report
