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

}  // namespace headscope
