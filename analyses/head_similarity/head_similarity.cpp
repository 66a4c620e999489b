// head_similarity: how alike the attention patterns of every pair of heads (all layers) are,
// as 1 − Jensen–Shannon divergence of their per-query attention distributions averaged over the
// queries and the prompt set; an average-linkage clustering of the heads on the JS distance; and
// the most redundant pairs across layers.
#include <torch/torch.h>

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "head_similarity/similarity_math.hpp"
#include "headscope/hook_names.hpp"
#include "headscope/sdk/analysis.hpp"

namespace headscope {

namespace {
using namespace similarity;

class HeadSimilarity : public Analysis {
public:
    std::string id() const override { return "head_similarity"; }
    std::string title() const override { return "Head similarity"; }
    std::string version() const override { return "1.0"; }
    std::string description() const override {
        return "Jensen-Shannon similarity of the attention patterns of every pair of heads across the prompts, an "
               "average-linkage clustering of the heads, and the most redundant pairs across layers.";
    }
    std::vector<ParamSpec> parameters() const override {
        return {
            ParamSpec::integer("top_k", 15, "rows of the most-similar cross-layer pairs table", 1, 1e9),
            ParamSpec::real("cluster_distance", 0.2,
                            "heads joined below this JS distance (1 - similarity) form a cluster", 0.0, 1.0),
        };
    }
    std::vector<std::string> hooks(const ModelConfig&, const ParamValues&) const override {
        return {"blocks.*.attn.hook_pattern"};
    }
    Result run(AnalysisContext& ctx) override;
};

Matrix make_matrix(std::string key, std::string title, std::string description, const torch::Tensor& values,
                   const std::vector<std::string>& labels) {
    Matrix m;
    m.key = std::move(key);
    m.title = std::move(title);
    m.description = std::move(description);
    m.rows = m.cols = static_cast<int>(values.size(0));
    torch::Tensor c = values.contiguous();
    m.values.assign(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
    m.row_labels = m.col_labels = labels;
    m.row_axis = m.col_axis = "head";
    m.scale = Scale::sequential;
    return m;
}

Result HeadSimilarity::run(AnalysisContext& ctx) {
    const ModelConfig& cfg = ctx.config();
    const int L = cfg.n_layers, H = cfg.n_heads, N = L * H;
    const size_t top_k = static_cast<size_t>(ctx.params.get_int("top_k"));
    const double cut = ctx.params.get_real("cluster_distance");
    std::vector<std::string> labels;
    for (int l = 0; l < L; ++l)
        for (int h = 0; h < H; ++h) labels.push_back(fmt::format("L{}H{}", l, h));

    torch::Tensor sum = torch::zeros({N, N}, torch::kDouble);
    size_t used = 0;
    for (size_t i = 0; i < ctx.prompts.size(); ++i) {
        ctx.step(0.9 * static_cast<double>(i) / static_cast<double>(ctx.prompts.size()),
                 fmt::format("prompt {}/{}", i + 1, ctx.prompts.size()));
        const CachedRun& run = ctx.clean_run(i);
        std::vector<torch::Tensor> layers;
        for (int l = 0; l < L; ++l) layers.push_back(run.cache.at(HookSite::attn_pattern, l)[0]);
        torch::Tensor patterns = torch::cat(layers, 0).to(torch::kCPU, torch::kDouble);  // [N, T, T]
        if (patterns.size(1) < 2) continue;
        sum += js_similarity(patterns);
        ++used;
    }
    if (used == 0) throw UsageError("head_similarity needs prompts of at least two tokens");
    torch::Tensor sim = sum / static_cast<double>(used);
    ctx.step(0.9, "clustering");

    std::vector<Merge> merges = average_linkage(1.0 - sim);
    std::vector<int> order = leaf_order(merges, N);
    std::vector<int> cluster = cut_clusters(merges, N, cut);

    Result result;
    const std::string what = fmt::format(
        "1 − Jensen–Shannon divergence (bits) between two heads' attention distributions, averaged over queries 1..T−1 "
        "and {} prompt(s): 1 = identical patterns.",
        used);
    result.items.push_back(make_matrix("similarity", "Attention-pattern similarity", what, sim, labels));
    torch::Tensor idx = torch::tensor(std::vector<int64_t>(order.begin(), order.end()), torch::kLong);
    std::vector<std::string> ordered_labels;
    for (int o : order) ordered_labels.push_back(labels[static_cast<size_t>(o)]);
    result.items.push_back(make_matrix("similarity_clustered", "Attention-pattern similarity (clustered order)",
                                       what + " Rows and columns in average-linkage dendrogram order.",
                                       sim.index_select(0, idx).index_select(1, idx), ordered_labels));

    // Most similar pairs in different layers.
    struct Pair {
        int a, b;
        double s;
    };
    std::vector<Pair> pairs;
    auto S = sim.accessor<double, 2>();
    for (int a = 0; a < N; ++a)
        for (int b = a + 1; b < N; ++b)
            if (a / H != b / H) pairs.push_back({a, b, S[a][b]});
    std::stable_sort(pairs.begin(), pairs.end(), [](const Pair& x, const Pair& y) { return x.s > y.s; });
    Table rp;
    rp.key = "redundant_pairs";
    rp.title = "Most similar heads in different layers";
    rp.description = "Pairs of heads from different layers with the most similar attention patterns.";
    rp.columns = {"head_a", "head_b", "layer_a", "layer_b", "similarity"};
    for (size_t j = 0; j < pairs.size() && j < top_k; ++j)
        rp.rows.push_back({labels[static_cast<size_t>(pairs[j].a)], labels[static_cast<size_t>(pairs[j].b)],
                           static_cast<int64_t>(pairs[j].a / H), static_cast<int64_t>(pairs[j].b / H), pairs[j].s});

    Table co;
    co.key = "cluster_order";
    co.title = "Clustering order";
    co.description = fmt::format("Heads in dendrogram order with their cluster at JS distance <= {:g}.", cut);
    co.columns = {"position", "head", "layer", "head_index", "cluster"};
    for (size_t j = 0; j < order.size(); ++j) {
        const int o = order[j];
        co.rows.push_back({static_cast<int64_t>(j), labels[static_cast<size_t>(o)], static_cast<int64_t>(o / H),
                           static_cast<int64_t>(o % H), static_cast<int64_t>(cluster[static_cast<size_t>(o)])});
    }

    Table lk;
    lk.key = "linkage";
    lk.title = "Average-linkage merges";
    lk.description = "Each merge joins clusters a and b at a JS distance (leaves 0..N-1 are heads in L{l}H{h} order; merge "
                     "i creates cluster N+i), as scipy.cluster.hierarchy.linkage writes it.";
    lk.columns = {"step", "a", "b", "distance", "size"};
    for (size_t j = 0; j < merges.size(); ++j)
        lk.rows.push_back({static_cast<int64_t>(j), static_cast<int64_t>(merges[j].a), static_cast<int64_t>(merges[j].b),
                           merges[j].distance, static_cast<int64_t>(merges[j].size)});

    // Clusters of two or more heads.
    std::map<int, std::vector<int>> members;
    for (int i = 0; i < N; ++i) members[cluster[static_cast<size_t>(i)]].push_back(i);
    Table cl;
    cl.key = "clusters";
    cl.title = "Clusters of similar heads";
    cl.description = fmt::format("Clusters with two or more heads at JS distance <= {:g}, with their mean pairwise similarity.", cut);
    cl.columns = {"cluster", "size", "layers", "heads", "mean_similarity"};
    size_t cross_layer = 0;
    for (const auto& [id, m] : members) {
        if (m.size() < 2) continue;
        double total = 0;
        int count = 0;
        std::vector<std::string> names;
        int lo = L, hi = -1;
        for (size_t x = 0; x < m.size(); ++x) {
            names.push_back(labels[static_cast<size_t>(m[x])]);
            lo = std::min(lo, m[x] / H), hi = std::max(hi, m[x] / H);
            for (size_t y = x + 1; y < m.size(); ++y) total += S[m[x]][m[y]], ++count;
        }
        cross_layer += hi > lo;
        cl.rows.push_back({static_cast<int64_t>(id), static_cast<int64_t>(m.size()), fmt::format("{}-{}", lo, hi),
                           fmt::format("{}", fmt::join(names, " ")), total / count});
    }

    if (!pairs.empty()) {
        std::vector<std::string> top;
        for (size_t j = 0; j < pairs.size() && j < 3; ++j)
            top.push_back(fmt::format("{}~{} {:.3f}", labels[static_cast<size_t>(pairs[j].a)],
                                      labels[static_cast<size_t>(pairs[j].b)], pairs[j].s));
        result.summary.push_back(fmt::format("most similar heads across layers: {}", fmt::join(top, ", ")));
    }
    result.summary.push_back(fmt::format("{} cluster(s) of 2+ heads at JS distance <= {:g} ({} spanning several layers), over {} "
                                         "prompt(s)",
                                         cl.rows.size(), cut, cross_layer, used));
    // Top list: pairs in different layers close enough to join a cluster (JS distance <= cut).
    std::vector<std::string> redundant;
    for (size_t j = 0; j < pairs.size() && j < 3 && pairs[j].s >= 1.0 - cut; ++j) {
        const HeadRef a{pairs[j].a / H, pairs[j].a % H}, b{pairs[j].b / H, pairs[j].b % H};
        result.roles.push_back(HeadRole{a, "attends like " + head_label(b) + " (redundant)", "", pairs[j].s});
        result.roles.push_back(HeadRole{b, "attends like " + head_label(a) + " (redundant)", "", pairs[j].s});
        redundant.push_back(fmt::format("{} and {} ({:.2f})", head_label(a), head_label(b), pairs[j].s));
    }
    result.headline = fmt::format("{} cluster{} of heads attend alike (JS distance <= {:g}), {} of them across layers", cl.rows.size(),
                                  cl.rows.size() == 1 ? "" : "s", cut, cross_layer);
    if (!redundant.empty())
        result.headline += fmt::format("; the most redundant pairs in different layers are {}", fmt::join(redundant, ", "));
    else if (!pairs.empty())
        result.headline += fmt::format("; no pair in different layers is that close (most similar: {} and {}, {:.2f})",
                                       labels[static_cast<size_t>(pairs[0].a)], labels[static_cast<size_t>(pairs[0].b)],
                                       pairs[0].s);
    result.headline += fmt::format(", over {} prompt(s).", used);
    result.items.push_back(std::move(rp));
    result.items.push_back(std::move(cl));
    result.items.push_back(std::move(co));
    result.items.push_back(std::move(lk));
    ctx.step(1.0, "done");
    return result;
}

}  // namespace

void register_head_similarity(AnalysisRegistry& registry) {
    registry.add([] { return std::make_unique<HeadSimilarity>(); });
}

}  // namespace headscope
