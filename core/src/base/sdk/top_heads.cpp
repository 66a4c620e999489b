#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "headscope/sdk/result_helpers.hpp"

namespace headscope {

std::vector<RankedHead> top_heads(const std::vector<double>& values, int heads, size_t count, HeadOrder order) {
    std::vector<size_t> slots;
    for (size_t i = 0; i < values.size(); ++i)
        if (std::isfinite(values[i])) slots.push_back(i);
    auto before = [&](size_t a, size_t b) {
        switch (order) {
            case HeadOrder::lowest: return values[a] < values[b];
            case HeadOrder::magnitude: return std::abs(values[a]) > std::abs(values[b]);
            case HeadOrder::highest: break;
        }
        return values[a] > values[b];
    };
    std::stable_sort(slots.begin(), slots.end(), before);
    std::vector<RankedHead> out;
    const size_t h = static_cast<size_t>(std::max(heads, 1));
    for (size_t i = 0; i < slots.size() && i < count; ++i)
        out.push_back({HeadRef{static_cast<int>(slots[i] / h), static_cast<int>(slots[i] % h)}, values[slots[i]]});
    return out;
}

std::string top_heads_text(const std::vector<RankedHead>& heads, const std::string& number_format) {
    std::string out;
    for (size_t i = 0; i < heads.size(); ++i)
        out += (i ? ", " : "") + head_label(heads[i].head) + " " + fmt::format(fmt::runtime(number_format), heads[i].value);
    return out;
}

std::string heads_sentence(const std::vector<RankedHead>& heads, const std::string& number_format) {
    std::string out;
    for (size_t i = 0; i < heads.size(); ++i) {
        if (i) out += i + 1 == heads.size() ? " and " : ", ";
        out += head_label(heads[i].head) + " (" + fmt::format(fmt::runtime(number_format), heads[i].value) + ")";
    }
    return out;
}

std::vector<RankedHead> add_roles(Result& r, const HeadGrid& grid, const std::string& role, size_t count, HeadOrder order,
                                  std::optional<double> threshold, double share_of_top) {
    std::vector<RankedHead> added;
    const std::vector<RankedHead> top = top_heads(grid, count, order);
    for (const RankedHead& h : top) {
        if (threshold) {
            const bool pass = order == HeadOrder::highest  ? h.value >= *threshold
                              : order == HeadOrder::lowest ? h.value <= *threshold
                                                           : std::abs(h.value) >= *threshold;
            if (!pass) continue;
        }
        if (share_of_top > 0 && std::abs(h.value) < share_of_top * std::abs(top.front().value)) continue;
        r.roles.push_back(HeadRole{h.head, role, grid.key, h.value});
        added.push_back(h);
    }
    return added;
}

}  // namespace headscope
