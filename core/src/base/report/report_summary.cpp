#include "report/report_summary.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "headscope/sdk/result_helpers.hpp"
#include "report/figures.hpp"
#include "report/report_text.hpp"

namespace headscope::report {

namespace {
std::string what(const ItemHeader& h) { return mid_sentence(h.title.empty() ? h.key : h.title); }
}  // namespace

std::vector<std::string> head_grid_findings(const HeadGrid& g, size_t runners_up) {
    std::vector<std::string> out;
    if (!item_problem(g).empty()) return out;
    // Highest first; ties keep the lower layer/head first, so the wording is stable.
    const std::vector<RankedHead> order = top_heads(g, g.values.size());
    if (order.empty()) return out;
    const RankedHead& top = order.front();
    std::string s = fmt::format("{} has the highest {} ({})", head_label(top.head), what(g), format_number(top.value, 3));
    if (order.size() > 1 && runners_up > 0) {
        std::vector<std::string> next;
        for (size_t k = 1; k < order.size() && k <= runners_up; ++k)
            next.push_back(fmt::format("{} ({})", head_label(order[k].head), format_number(order[k].value, 3)));
        s += fmt::format("; next are {}", fmt::join(next, ", "));
    }
    out.push_back(s + ".");
    if (g.scale == Scale::diverging && order.size() > 1) {
        const RankedHead& low = order.back();
        if (low.value < 0)
            out.push_back(fmt::format("{} has the most negative {} ({}).", head_label(low.head), what(g),
                                      format_number(low.value, 3)));
    }
    return out;
}

std::vector<std::string> token_score_findings(const TokenScores& t) {
    std::vector<std::string> out;
    if (!item_problem(t).empty()) return out;
    std::vector<size_t> order;
    for (size_t i = 0; i < t.scores.size(); ++i)
        if (std::isfinite(t.scores[i])) order.push_back(i);
    if (order.size() < 2) return out;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return t.scores[a] > t.scores[b]; });
    auto token = [&](size_t i) { return fmt::format("\"{}\" (position {})", truncate_text(token_display(t.tokens[i]), 24), i); };
    out.push_back(fmt::format("Token {} has the highest {} ({}).", token(order.front()), what(t),
                              format_number(t.scores[order.front()], 3)));
    if (t.scale == Scale::diverging && t.scores[order.back()] < 0)
        out.push_back(fmt::format("Token {} has the most negative {} ({}).", token(order.back()), what(t),
                                  format_number(t.scores[order.back()], 3)));
    return out;
}

std::vector<std::string> result_findings(const Result& r) {
    std::vector<std::string> out;
    for (const auto& item : r.items) {
        std::vector<std::string> more;
        if (auto g = std::get_if<HeadGrid>(&item)) more = head_grid_findings(*g);
        else if (auto t = std::get_if<TokenScores>(&item)) more = token_score_findings(*t);
        out.insert(out.end(), more.begin(), more.end());
    }
    return out;
}

}  // namespace headscope::report
