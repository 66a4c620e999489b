#include "head_items.hpp"

#include <algorithm>
#include <cctype>

#include "headscope/error.hpp"

namespace headscope::gui {

namespace {

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

bool about(const ItemHeader& item, int layer, int head) { return item.head == HeadRef{layer, head}; }

std::optional<int64_t> as_int(const Cell& cell) {
    if (const auto* i = std::get_if<int64_t>(&cell)) return *i;
    if (const auto* d = std::get_if<double>(&cell)) return static_cast<int64_t>(*d);
    if (const auto* s = std::get_if<std::string>(&cell)) {
        try {
            size_t used = 0;
            const long long v = std::stoll(*s, &used);
            if (used == s->size()) return v;
        } catch (...) {
        }
    }
    return std::nullopt;
}

}  // namespace

bool is_head_label(const std::string& label, int layer, int head) {
    try {
        return parse_head(label) == HeadRef{layer, head};
    } catch (const UsageError&) {
        return false;
    }
}

int column_index(const Table& table, const std::string& name) {
    for (size_t i = 0; i < table.columns.size(); ++i)
        if (lower(table.columns[i]) == lower(name)) return static_cast<int>(i);
    return -1;
}

std::optional<Spectrum> head_spectrum(const Result& result, int layer, int head) {
    Spectrum out;
    out.key = "head_spectrum";
    out.title = head_label(layer, head);
    out.head = HeadRef{layer, head};
    bool named_spectrum = false;
    for (const auto& item : result.items)
        if (const auto* s = std::get_if<Spectrum>(&item))
            named_spectrum |= about(*s, layer, head);
    for (const auto& item : result.items) {
        if (const auto* s = std::get_if<Spectrum>(&item)) {
            if (!about(*s, layer, head)) continue;
            for (size_t i = 0; i < s->series.size(); ++i) {
                out.series.push_back(s->series[i]);
                out.series_names.push_back(i < s->series_names.size() ? s->series_names[i] : s->title);
            }
            out.x_axis = s->x_axis;
            out.y_axis = s->y_axis;
            out.log_y = s->log_y;
            if (!s->description.empty()) out.description = s->description;
        } else if (const auto* m = std::get_if<Matrix>(&item); m && !named_spectrum &&
                                                              lower(m->row_axis).find("head") != std::string::npos) {
            for (size_t r = 0; r < m->row_labels.size() && static_cast<int>(r) < m->rows; ++r) {
                if (!is_head_label(m->row_labels[r], layer, head)) continue;
                const auto begin = m->values.begin() + static_cast<std::ptrdiff_t>(r * static_cast<size_t>(m->cols));
                out.series.emplace_back(begin, begin + m->cols);
                out.series_names.push_back(m->title);
                if (!m->col_axis.empty()) out.x_axis = m->col_axis;
                break;
            }
        }
    }
    if (out.series.empty()) return std::nullopt;
    return out;
}

std::vector<Table> head_tables(const Result& result, int layer, int head) {
    std::vector<Table> out;
    for (const auto& item : result.items) {
        const auto* t = std::get_if<Table>(&item);
        if (!t) continue;
        const int lc = column_index(*t, "layer");
        const int hc = column_index(*t, "head");
        if (lc >= 0 && hc >= 0) {
            Table sub = *t;
            sub.rows.clear();
            for (const auto& row : t->rows) {
                if (static_cast<size_t>(std::max(lc, hc)) >= row.size()) continue;
                if (as_int(row[static_cast<size_t>(lc)]) == layer && as_int(row[static_cast<size_t>(hc)]) == head)
                    sub.rows.push_back(row);
            }
            if (!sub.rows.empty()) out.push_back(std::move(sub));
        } else if (hc >= 0) {
            Table sub = *t;
            sub.rows.clear();
            for (const auto& row : t->rows) {
                if (static_cast<size_t>(hc) >= row.size()) continue;
                const auto* s = std::get_if<std::string>(&row[static_cast<size_t>(hc)]);
                if (s && is_head_label(*s, layer, head)) sub.rows.push_back(row);
            }
            if (!sub.rows.empty()) out.push_back(std::move(sub));
        } else if (about(*t, layer, head)) {
            if (!t->rows.empty()) out.push_back(*t);
        }
    }
    return out;
}

std::vector<int> listed_positions(const Table& table) {
    std::vector<int> out;
    const int pc = column_index(table, "position");
    const int prompt = column_index(table, "prompt");
    if (pc < 0) return out;
    for (const auto& row : table.rows) {
        if (static_cast<size_t>(pc) >= row.size()) continue;
        if (prompt >= 0 && static_cast<size_t>(prompt) < row.size() && as_int(row[static_cast<size_t>(prompt)]).value_or(0) != 0)
            continue;
        if (auto p = as_int(row[static_cast<size_t>(pc)])) out.push_back(static_cast<int>(*p));
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

}  // namespace headscope::gui
