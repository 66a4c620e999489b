#include "headscope/report/findings.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "headscope/sdk/result_helpers.hpp"
#include "report/report_text.hpp"

namespace headscope {

namespace {

const Result* result_of(const std::vector<Result>& results, const std::string& id) {
    for (const Result& r : results)
        if (r.analysis_id == id) return &r;
    return nullptr;
}

// The roles of a result, or for a result that predates roles (no roles, no headline) the top
// three heads of its first head grid.
std::vector<HeadRole> roles_of(const Result& r) {
    if (!r.roles.empty() || !r.headline.empty() || !r.error.empty()) return r.roles;
    for (const ResultItem& item : r.items) {
        const HeadGrid* g = std::get_if<HeadGrid>(&item);
        if (!g || g->values.size() != static_cast<size_t>(g->layers) * static_cast<size_t>(g->heads)) continue;
        Result tmp;
        const bool diverging = g->scale == Scale::diverging;
        const std::string what = report::mid_sentence(g->title.empty() ? g->key : g->title);
        add_roles(tmp, *g, (diverging ? "strong " : "high ") + what, 3, diverging ? HeadOrder::magnitude : HeadOrder::highest);
        return tmp.roles;
    }
    return {};
}

std::string line_text(const Result& r) {
    if (!r.error.empty()) return "failed: " + r.error;
    if (!r.headline.empty()) return r.headline;
    if (!r.summary.empty()) return r.summary.front();
    return "no summary";
}

}  // namespace

Findings collect_findings(const std::vector<Result>& results) {
    Findings f;
    std::map<HeadRef, size_t> index;  // head -> position in f.heads
    for (const Result& r : results) {
        f.lines.push_back(FindingLine{r.analysis_id, r.analysis_title.empty() ? r.analysis_id : r.analysis_title, line_text(r),
                                      !r.error.empty()});
        const std::vector<HeadRole> roles = roles_of(r);
        std::map<std::string, size_t> rank_in_role;  // position of each role's heads
        for (const HeadRole& role : roles) {
            const size_t rank = rank_in_role[role.role]++;
            auto [it, fresh] = index.emplace(role.head, f.heads.size());
            if (fresh) f.heads.push_back(FindingHead{role.head, {}, {}, {}, rank});
            FindingHead& h = f.heads[it->second];
            h.best_rank = std::min(h.best_rank, rank);
            if (std::find(h.roles.begin(), h.roles.end(), role.role) == h.roles.end()) h.roles.push_back(role.role);
            if (std::find(h.named_by.begin(), h.named_by.end(), r.analysis_id) == h.named_by.end())
                h.named_by.push_back(r.analysis_id);
            if (role.item.empty()) {  // a value without a grid (e.g. a composition edge): shown, not a card measure
                h.scores.push_back(HeadScore{r.analysis_id, "", role.role, role.value, Scale::sequential});
                continue;
            }
            const HeadGrid* grid = r.head_grid(role.item);
            HeadScore score{r.analysis_id, role.item, grid && !grid->title.empty() ? grid->title : role.item, role.value,
                            grid ? grid->scale : Scale::sequential};
            auto same = [&](const HeadScore& s) { return s.analysis_id == score.analysis_id && s.item == score.item; };
            if (std::none_of(h.scores.begin(), h.scores.end(), same)) h.scores.push_back(score);
            if (grid && std::none_of(f.measures.begin(), f.measures.end(), same)) f.measures.push_back(score);
        }
    }
    std::stable_sort(f.heads.begin(), f.heads.end(), [](const FindingHead& a, const FindingHead& b) {
        if (a.named_by.size() != b.named_by.size()) return a.named_by.size() > b.named_by.size();
        if (a.roles.size() != b.roles.size()) return a.roles.size() > b.roles.size();
        if (a.best_rank != b.best_rank) return a.best_rank < b.best_rank;
        return a.head < b.head;
    });
    return f;
}

double head_value(const std::vector<Result>& results, const HeadScore& measure, const HeadRef& head) {
    const Result* r = result_of(results, measure.analysis_id);
    const HeadGrid* g = r ? r->head_grid(measure.item) : nullptr;
    if (!g || head.layer < 0 || head.head < 0 || head.layer >= g->layers || head.head >= g->heads ||
        g->values.size() != static_cast<size_t>(g->layers) * static_cast<size_t>(g->heads))
        return std::numeric_limits<double>::quiet_NaN();
    return g->at(head.layer, head.head);
}

std::string roles_text(const FindingHead& h) {
    std::string out;
    for (size_t i = 0; i < h.roles.size(); ++i) out += (i ? "; " : "") + h.roles[i];
    return out;
}

std::vector<HeadRef> card_heads(const Findings& findings, size_t count) {
    std::vector<HeadRef> out;
    for (size_t i = 0; i < findings.heads.size() && i < count; ++i) out.push_back(findings.heads[i].head);
    return out;
}

const Matrix* card_pattern(const ResultsFile& results, const HeadRef& head) {
    for (const Matrix& m : results.card_patterns)
        if (m.head && *m.head == head) return &m;
    return nullptr;
}

const Spectrum* card_spectrum(const ResultsFile& results, const HeadRef& head) {
    for (const Result& r : results.results)
        for (const ResultItem& item : r.items) {
            const Spectrum* s = std::get_if<Spectrum>(&item);
            if (s && s->head && *s->head == head) return s;
        }
    return nullptr;
}

}  // namespace headscope
