// method_agreement (A Song of (Dis)agreement): how far head-importance methods agree. Every head
// grid of a results file (or of analyses run inline) is compared with every other: Spearman's ρ,
// Kendall's τ-b and the overlap of their top-k heads, as [grids, grids] matrices.
#include <torch/torch.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "builtin_analyses.hpp"
#include "headscope/sdk/analysis.hpp"
#include "headscope/sdk/analysis_runner.hpp"
#include "headscope/sdk/result_store.hpp"
#include "method_agreement/rank_agreement.hpp"

namespace headscope {

namespace {

struct NamedGrid {
    std::string name;  // "<analysis id>.<item key>"
    const HeadGrid* grid;
};

std::vector<std::string> split_list(const std::string& text) {
    std::vector<std::string> out;
    std::stringstream in(text);
    for (std::string part; std::getline(in, part, ',');) {
        part.erase(0, part.find_first_not_of(" \t"));
        part.erase(part.find_last_not_of(" \t") + 1);
        if (!part.empty()) out.push_back(part);
    }
    return out;
}

class MethodAgreement : public Analysis {
public:
    std::string id() const override { return "method_agreement"; }
    std::string title() const override { return "Agreement between head-importance methods"; }
    std::string version() const override { return "1.0"; }
    std::string description() const override {
        return "Compares every pair of head grids (direct logit attribution, ablations, attribution and activation "
               "patching, detector scores, weight statistics…) by Spearman's rank correlation, Kendall's τ-b and the "
               "share of heads their top-k lists have in common (A Song of (Dis)agreement). The grids come from a "
               "results .h5 file (results_file) or from the analyses listed in `analyses`, run here with their "
               "defaults on the given prompts (weights-only analyses run without prompts). Constant grids and grids "
               "with non-finite values are left out (their correlation is undefined).";
    }
    std::vector<ParamSpec> parameters() const override {
        return {
            ParamSpec::text("results_file", "", "a headscope results .h5 whose head grids are compared; empty: run `analyses`"),
            ParamSpec::text("analyses", "head_attribution,head_detectors,attention_sinks,qk_ov_svd,weight_geometry",
                            "comma-separated analyses run inline when results_file is empty"),
            ParamSpec::integer("top_k", 5, "heads in each grid's top list for the overlap", 1, 1e6),
            ParamSpec::boolean("magnitude", false, "rank heads by |score| (for signed scores such as logit attribution)"),
        };
    }
    bool needs_prompts() const override { return false; }

    Result run(AnalysisContext& ctx) override {
        std::vector<Result> sources;
        std::vector<std::string> notes;
        const std::string file = ctx.params.get_text("results_file");
        if (!file.empty()) {
            sources = read_results_file(file).results;
        } else {
            AnalysisRegistry registry;
            headscope_builtin_plugin_info()->register_analyses(registry);
            const std::vector<std::string> ids = split_list(ctx.params.get_text("analyses"));
            if (ids.empty()) throw UsageError("method_agreement.analyses: list at least one analysis, or set results_file");
            for (size_t i = 0; i < ids.size(); ++i) {
                ctx.step(static_cast<double>(i) / static_cast<double>(ids.size() + 1), "running " + ids[i]);
                if (ids[i] == id()) throw UsageError("method_agreement.analyses: method_agreement cannot run itself");
                if (!registry.contains(ids[i]))
                    throw UsageError(fmt::format("method_agreement.analyses: unknown analysis '{}'", ids[i]));
                if (registry.info(ids[i]).needs_prompts && ctx.prompts.empty()) {
                    notes.push_back(ids[i] + " skipped: it needs prompts");
                    continue;
                }
                Result r = run_analysis(registry, {ids[i], {}}, ctx.model, ctx.tokenizer, ctx.prompts, ctx.progress);
                if (!r.error.empty()) notes.push_back(ids[i] + " failed: " + r.error);
                sources.push_back(std::move(r));
            }
        }
        const bool magnitude = ctx.params.get_bool("magnitude");
        std::vector<NamedGrid> grids;
        std::vector<std::vector<double>> values;
        int layers = -1, heads = -1;
        for (const Result& r : sources) {
            if (r.analysis_id == id()) continue;
            for (const ResultItem& item : r.items) {
                const auto* g = std::get_if<HeadGrid>(&item);
                if (!g) continue;
                const std::string name = r.analysis_id + "." + g->key;
                if (layers < 0) layers = g->layers, heads = g->heads;
                if (g->layers != layers || g->heads != heads) {
                    notes.push_back(fmt::format("{} left out: {}x{} heads, not {}x{}", name, g->layers, g->heads, layers, heads));
                    continue;
                }
                std::vector<double> v = g->values;
                bool finite = true;
                for (double& x : v) {
                    finite = finite && std::isfinite(x);
                    if (magnitude) x = std::abs(x);
                }
                const bool constant = std::all_of(v.begin(), v.end(), [&](double x) { return x == v.front(); });
                if (!finite || constant || v.size() < 2) {
                    notes.push_back(name + (finite ? " left out: constant" : " left out: non-finite values"));
                    continue;
                }
                grids.push_back({name, g});
                values.push_back(std::move(v));
            }
        }
        if (grids.size() < 2)
            throw UsageError(fmt::format("method_agreement: {} comparable head grid(s) found{}; at least 2 are needed{}",
                                         grids.size(), file.empty() ? "" : " in " + file,
                                         notes.empty() ? "" : " (" + fmt::format("{}", fmt::join(notes, "; ")) + ")"));
        ctx.step(static_cast<double>(sources.size()) / static_cast<double>(sources.size() + 1), "comparing");

        const size_t G = grids.size();
        const auto k = static_cast<size_t>(ctx.params.get_int("top_k"));
        std::vector<double> rho(G * G), tau(G * G), overlap(G * G);
        Table pairs;
        pairs.key = "pairs";
        pairs.title = "Agreement of each pair of methods";
        pairs.description = "Every pair of head grids, by decreasing Spearman correlation.";
        pairs.columns = {"grid_a", "grid_b", "spearman", "kendall", fmt::format("top{}_overlap", k)};
        std::vector<std::pair<double, std::vector<Cell>>> rows;
        for (size_t a = 0; a < G; ++a)
            for (size_t b = a; b < G; ++b) {
                ctx.check_cancelled();
                const double s = agreement::spearman(values[a], values[b]);
                const double t = agreement::kendall_tau_b(values[a], values[b]);
                const double o = agreement::top_k_overlap(values[a], values[b], k);
                rho[a * G + b] = rho[b * G + a] = s;
                tau[a * G + b] = tau[b * G + a] = t;
                overlap[a * G + b] = overlap[b * G + a] = o;
                if (a != b) rows.push_back({s, {grids[a].name, grids[b].name, s, t, o}});
            }
        std::stable_sort(rows.begin(), rows.end(), [](const auto& x, const auto& y) { return x.first > y.first; });
        for (auto& r : rows) pairs.rows.push_back(std::move(r.second));

        std::vector<std::string> labels;
        for (const auto& g : grids) labels.push_back(g.name);
        const std::string ranked = magnitude ? " Heads are ranked by |score|." : "";
        Result result;
        result.items.push_back(matrix("spearman", "Spearman rank correlation",
                                      "Spearman's ρ between the head scores of two methods (ties get their average "
                                      "rank): 1 same order, −1 reversed." + ranked,
                                      labels, std::move(rho)));
        result.items.push_back(matrix("kendall", "Kendall rank correlation",
                                      "Kendall's τ-b between the head scores of two methods: (concordant − discordant "
                                      "pairs) corrected for ties; 1 same order, −1 reversed." + ranked,
                                      labels, std::move(tau)));
        result.items.push_back(matrix("top_k_overlap", fmt::format("Top-{} overlap", k),
                                      fmt::format("Share of the {} highest-scoring heads the two methods have in common "
                                                  "(0 none, 1 the same set).{}", k, ranked),
                                      labels, std::move(overlap), Scale::sequential));
        result.summary.push_back(fmt::format("{} head grids compared ({} pairs)", G, pairs.rows.size()));
        if (!pairs.rows.empty()) {
            const auto line = [&](const std::vector<Cell>& r) {
                return fmt::format("{} ~ {}: spearman {:.3f}, kendall {:.3f}, top-{} overlap {:.2f}", std::get<std::string>(r[0]),
                                   std::get<std::string>(r[1]), std::get<double>(r[2]), std::get<double>(r[3]), k,
                                   std::get<double>(r[4]));
            };
            result.summary.push_back("most agreeing: " + line(pairs.rows.front()));
            result.summary.push_back("least agreeing: " + line(pairs.rows.back()));
        }
        for (const auto& n : notes) result.summary.push_back(n);
        result.items.push_back(std::move(pairs));
        ctx.step(1.0, "done");
        return result;
    }

private:
    static Matrix matrix(std::string key, std::string title, std::string description, const std::vector<std::string>& labels,
                         std::vector<double> values, Scale scale = Scale::diverging) {
        Matrix m;
        m.key = std::move(key);
        m.title = std::move(title);
        m.description = std::move(description);
        m.rows = m.cols = static_cast<int>(labels.size());
        m.values = std::move(values);
        m.row_labels = m.col_labels = labels;
        m.row_axis = m.col_axis = "method (analysis.grid)";
        m.scale = scale;
        return m;
    }
};

}  // namespace

void register_method_agreement(AnalysisRegistry& registry) {
    registry.add([] { return std::make_unique<MethodAgreement>(); });
}

}  // namespace headscope
