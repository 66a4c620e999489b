#include "head_items.hpp"

#include <algorithm>
#include <cctype>

namespace headscope::gui {

namespace {

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

bool contains_token(const std::string& text, const std::string& needle) {
    for (size_t pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) {
        const bool digit_before = pos > 0 && std::isdigit(static_cast<unsigned char>(text[pos - 1]));
        const size_t end = pos + needle.size();
        const bool digit_after = end < text.size() && std::isdigit(static_cast<unsigned char>(text[end]));
        const bool alpha_before = pos > 0 && std::isalpha(static_cast<unsigned char>(text[pos - 1])) && std::isdigit(static_cast<unsigned char>(needle[0]));
        if (!digit_before && !digit_after && !alpha_before) return true;
    }
    return false;
}

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

bool names_head(const std::string& text, int layer, int head) {
    const std::string t = lower(text);
    const std::string l = std::to_string(layer), h = std::to_string(head);
    return contains_token(t, "l" + l + "h" + h) || contains_token(t, "l" + l + ".h" + h) ||
           contains_token(t, "l" + l + "_h" + h) || contains_token(t, l + "." + h);
}

int column_index(const Table& table, const std::string& name) {
    for (size_t i = 0; i < table.columns.size(); ++i)
        if (lower(table.columns[i]) == lower(name)) return static_cast<int>(i);
    return -1;
}

std::optional<Spectrum> head_spectrum(const Result& result, int layer, int head) {
    Spectrum out;
    out.key = "head_spectrum";
    out.title = "L" + std::to_string(layer) + "H" + std::to_string(head);
    bool named_spectrum = false;
    for (const auto& item : result.items)
        if (const auto* s = std::get_if<Spectrum>(&item))
            named_spectrum |= names_head(s->key, layer, head) || names_head(s->title, layer, head);
    for (const auto& item : result.items) {
        if (const auto* s = std::get_if<Spectrum>(&item)) {
            if (!names_head(s->key, layer, head) && !names_head(s->title, layer, head)) continue;
            for (size_t i = 0; i < s->series.size(); ++i) {
                out.series.push_back(s->series[i]);
                out.series_names.push_back(i < s->series_names.size() ? s->series_names[i] : s->title);
            }
            out.x_axis = s->x_axis;
            out.y_axis = s->y_axis;
            out.log_y = s->log_y;
            if (!s->description.empty()) out.description = s->description;
        } else if (const auto* m = std::get_if<Matrix>(&item); m && !named_spectrum) {
            for (size_t r = 0; r < m->row_labels.size() && static_cast<int>(r) < m->rows; ++r) {
                if (!names_head(m->row_labels[r], layer, head)) continue;
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
                if (s && names_head(*s, layer, head)) sub.rows.push_back(row);
            }
            if (!sub.rows.empty()) out.push_back(std::move(sub));
        } else if (names_head(t->key, layer, head) || names_head(t->title, layer, head)) {
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
