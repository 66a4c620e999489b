// composition: Q-, K- and V-composition scores between every pair of heads in different layers
// (A Mathematical Framework for Transformer Circuits): how much of what head A writes (its OV
// circuit) a later head B reads into its queries, keys or values, as
// ‖W_A·W_B‖_F / (‖W_A‖_F·‖W_B‖_F), computed from the factors, with the mean score of random
// matrices of the same shapes as baseline.
#include <torch/torch.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>

#include "headscope/factored_matrix.hpp"
#include "headscope/sdk/analysis.hpp"
#include "headscope/seeded_rng.hpp"

namespace headscope {

namespace {


struct Kind {
    const char* name;   // edge kind
    const char* key;    // matrix key
    const char* title;
    const char* reads;  // what B's circuit reads with
};
const Kind kKinds[3] = {
    {"Q", "q_composition", "Q-composition", "the query side of its QK circuit (W_OV(A)·W_QK(B))"},
    {"K", "k_composition", "K-composition", "the key side of its QK circuit (W_OV(A)·W_QK(B)ᵀ)"},
    {"V", "v_composition", "V-composition", "its OV circuit (W_OV(A)·W_OV(B))"},
};

// Standard normal samples from SeededRng (Box–Muller), reproducible on every platform.
at::Tensor gaussian(SeededRng& rng, std::vector<int64_t> shape) {
    int64_t n = 1;
    for (int64_t s : shape) n *= s;
    std::vector<double> v(static_cast<size_t>(n));
    for (size_t i = 0; i < v.size(); i += 2) {
        const double u1 = 1.0 - rng.uniform(), u2 = rng.uniform();
        const double radius = std::sqrt(-2.0 * std::log(u1));
        v[i] = radius * std::cos(2 * M_PI * u2);
        if (i + 1 < v.size()) v[i + 1] = radius * std::sin(2 * M_PI * u2);
    }
    return torch::tensor(v, torch::kDouble).view(shape);
}

// Mean composition score of independent random rank-d_head circuits of the model's shapes.
double random_baseline(const ModelConfig& c, int64_t samples, uint64_t seed) {
    SeededRng rng(seed);
    const int64_t d = c.d_model, dh = c.d_head;
    const FactoredMatrix a(gaussian(rng, {samples, d, dh}), gaussian(rng, {samples, dh, d}));
    const FactoredMatrix b(gaussian(rng, {samples, d, dh}), gaussian(rng, {samples, dh, d}));
    const at::Tensor score = a.matmul(b).frobenius_norm() / (a.frobenius_norm() * b.frobenius_norm());
    return score.mean().item<double>();
}

FactoredMatrix concat(const std::vector<FactoredMatrix>& ms) {
    std::vector<at::Tensor> as, bs;
    for (const auto& m : ms) {
        as.push_back(m.A());
        bs.push_back(m.B());
    }
    return FactoredMatrix(at::cat(as, 0), at::cat(bs, 0));
}

class Composition : public Analysis {
public:
    std::string id() const override { return "composition"; }
    std::string title() const override { return "Head composition"; }
    std::string version() const override { return "1.0"; }
    std::string description() const override {
        return "Q-, K- and V-composition scores ‖W_A·W_B‖_F / (‖W_A‖_F·‖W_B‖_F) for every head A and every head B in "
               "a later layer (A Mathematical Framework for Transformer Circuits), with W_A the OV circuit of A and W_B "
               "the QK circuit of B (query side), its transpose (key side) or its OV circuit; computed from the "
               "factors without forming d_model×d_model matrices. The baseline is the mean score of random matrices "
               "of the same shapes; the graph keeps the strongest edges above baseline × factor. GQA-aware. For "
               "rotary models the QK circuits are those of the raw weights (positions ignored). Weights only.";
    }
    std::vector<ParamSpec> parameters() const override {
        return {
            ParamSpec::integer("top_edges", 40, "edges kept in the graph (strongest first)", 1, 100000),
            ParamSpec::real("baseline_factor", 2.0, "an edge needs a score above baseline × this factor", 0, 1e6),
            ParamSpec::integer("baseline_samples", 16, "random matrix pairs averaged for the baseline", 1, 10000),
            ParamSpec::integer("seed", 0, "seed of the random baseline", 0, 9.0e15),
            ParamSpec::boolean("fold_norm_weights", true,
                               "scale W_Q, W_K, W_V by ln1's weight first (TransformerLens fold_ln, without biases or centring)"),
            ParamSpec::integer("components", 3,
                               "per graph edge, the writer's OV singular components listed with their share of the edge "
                               "(0 lists none)",
                               0, 1e6),
        };
    }
    bool needs_prompts() const override { return false; }

    Result run(AnalysisContext& ctx) override {
        torch::NoGradGuard no_grad;
        const ModelConfig& c = ctx.config();
        const int L = c.n_layers, H = c.n_heads, N = L * H;
        const CircuitOptions options{ctx.params.get_bool("fold_norm_weights")};
        std::vector<FactoredMatrix> ov, qk;
        for (int l = 0; l < L; ++l) {
            ov.push_back(ov_circuit(ctx.model, l, options).to(at::kDouble));
            qk.push_back(qk_circuit(ctx.model, l, options).to(at::kDouble));
        }
        // scores[kind][a * N + b], nonzero only where layer(b) > layer(a).
        std::vector<std::vector<double>> scores(3, std::vector<double>(static_cast<size_t>(N) * N, 0.0));
        for (int j = 1; j < L; ++j) {
            ctx.step(static_cast<double>(j - 1) / L, fmt::format("heads reading in layer {}", j));
            // Writers: every head of the layers before j, [j*H].
            const FactoredMatrix writers = concat(std::vector<FactoredMatrix>(ov.begin(), ov.begin() + j));
            const at::Tensor writer_norms = writers.frobenius_norm();
            // Readers of layer j for the three kinds in one batch [3H]: QK (query side), QKᵀ (key side), OV.
            const FactoredMatrix readers = concat({qk[static_cast<size_t>(j)], qk[static_cast<size_t>(j)].transpose(),
                                                   ov[static_cast<size_t>(j)]});
            const at::Tensor denom = writer_norms.unsqueeze(1) * readers.frobenius_norm().unsqueeze(0);
            const at::Tensor norms = pairwise_product_norms(writers, readers);  // [j*H, 3H]
            const at::Tensor s =
                at::where(denom > 0, norms / denom.clamp_min(1e-300), at::zeros_like(norms)).cpu().contiguous();
            const double* p = s.data_ptr<double>();
            for (int k = 0; k < 3; ++k)
                for (int a = 0; a < j * H; ++a)
                    for (int h = 0; h < H; ++h)
                        scores[static_cast<size_t>(k)][static_cast<size_t>(a) * N + j * H + h] = p[a * 3 * H + k * H + h];
        }
        ctx.step(static_cast<double>(L - 1) / L, "random baseline");
        const double baseline =
            random_baseline(c, ctx.params.get_int("baseline_samples"), static_cast<uint64_t>(ctx.params.get_int("seed")));
        const double threshold = baseline * ctx.params.get_real("baseline_factor");

        Result result;
        // The graph stays a local until the end: references into result.items do not survive its growth.
        Graph g = graph(scores, L, H, threshold, ctx.params.get_int("top_edges"), baseline);
        for (int k = 0; k < 3; ++k) result.items.push_back(matrix(kKinds[k], scores[static_cast<size_t>(k)], L, H, baseline));
        const int64_t components = std::min<int64_t>(ctx.params.get_int("components"), c.d_head);
        if (components > 0 && !g.edges.empty()) {
            auto [table, shares] = component_items(g, ov, qk, H, components);
            result.items.push_back(std::move(table));
            result.items.push_back(std::move(shares));
        }
        result.summary.push_back(fmt::format("random baseline {:.4f}; {} edges above {:.4f}", baseline, g.edges.size(),
                                             threshold));
        std::string top;
        for (size_t e = 0; e < g.edges.size() && e < 5; ++e)
            top += fmt::format("{}{} -{}-> {} {:.3f}", e ? ", " : "", g.nodes[static_cast<size_t>(g.edges[e].from)].id,
                               g.edges[e].kind, g.nodes[static_cast<size_t>(g.edges[e].to)].id, g.edges[e].weight);
        if (!top.empty()) result.summary.push_back("strongest: " + top);
        // Top list: both ends of the three strongest edges.
        std::vector<std::string> strongest;
        for (size_t e = 0; e < g.edges.size() && e < 3; ++e) {
            const Graph::Node& from = g.nodes[static_cast<size_t>(g.edges[e].from)];
            const Graph::Node& to = g.nodes[static_cast<size_t>(g.edges[e].to)];
            const std::string& kind = g.edges[e].kind;
            if (from.layer >= 0 && from.head >= 0)
                result.roles.push_back(HeadRole{HeadRef{from.layer, from.head},
                                                fmt::format("writes into {} ({}-composition)", to.id, kind), "", g.edges[e].weight});
            if (to.layer >= 0 && to.head >= 0)
                result.roles.push_back(HeadRole{HeadRef{to.layer, to.head},
                                                fmt::format("reads {} ({}-composition)", from.id, kind), "", g.edges[e].weight});
            strongest.push_back(fmt::format("{} -> {} ({}, {:.3f})", from.id, to.id, kind, g.edges[e].weight));
        }
        result.items.insert(result.items.begin(), ResultItem(std::move(g)));
        const Graph& graph_item = std::get<Graph>(result.items.front());
        result.headline =
            strongest.empty()
                ? fmt::format("No pair of heads composes above {:.3g} (random baseline {:.3g}).", threshold, baseline)
                : fmt::format("The strongest composition{} {} {}; {} edge{} exceed {:.3g}, {:g}x the random baseline {:.3g}.",
                              strongest.size() == 1 ? "" : "s", strongest.size() == 1 ? "is" : "are",
                              fmt::join(strongest, ", "), graph_item.edges.size(), graph_item.edges.size() == 1 ? "" : "s", threshold,
                              ctx.params.get_real("baseline_factor"), baseline);
        ctx.step(1.0, "done");
        return result;
    }

private:
    static Graph graph(const std::vector<std::vector<double>>& scores, int L, int H, double threshold, int64_t top,
                       double baseline) {
        const int N = L * H;
        Graph g;
        g.key = "composition_graph";
        g.title = "Strongest composition between heads";
        g.description = fmt::format(
            "Edges from a head A to a head B in a later layer whose Q-, K- or V-composition score (edge weight) is "
            "above {:.4f}, the random baseline {:.4f} times the baseline factor; at most the strongest top_edges.",
            threshold, baseline);
        for (int l = 0; l < L; ++l)
            for (int h = 0; h < H; ++h) g.nodes.push_back({head_label(l, h), head_label(l, h), l, h});
        for (int k = 0; k < 3; ++k)
            for (int a = 0; a < N; ++a)
                for (int b = 0; b < N; ++b) {
                    const double s = scores[static_cast<size_t>(k)][static_cast<size_t>(a) * N + b];
                    if (b / H > a / H && s > threshold) g.edges.push_back({a, b, s, kKinds[k].name});
                }
        std::stable_sort(g.edges.begin(), g.edges.end(),
                         [](const Graph::Edge& x, const Graph::Edge& y) { return x.weight > y.weight; });
        if (g.edges.size() > static_cast<size_t>(top)) g.edges.resize(static_cast<size_t>(top));
        return g;
    }

    // Per graph edge A -> B: A's OV circuit is Σ_i s_i·u_i·v_iᵀ with orthonormal u_i, so
    // ‖W_OV(A)·W_B‖_F² = Σ_i s_i²·‖v_iᵀ·W_B‖² and the edge's score splits exactly into
    // contributions c_i = s_i·‖v_iᵀ·W_B‖ / (‖W_OV(A)‖_F·‖W_B‖_F) with Σ_i c_i² = score²: which of the
    // writer's output directions (channels) B reads, through its Q, K or V side.
    static std::pair<Table, Matrix> component_items(const Graph& g, const std::vector<FactoredMatrix>& ov,
                                                    const std::vector<FactoredMatrix>& qk, int H, int64_t components) {
        Table t;
        t.key = "component_composition";
        t.title = "Composition per OV singular component";
        t.description =
            "For each graph edge A -> B, the writer's top OV singular components (output direction v_i, singular "
            "value s_i): contribution c_i = s_i·‖v_iᵀ·W_B‖/(‖W_OV(A)‖_F·‖W_B‖_F), where W_B is the reader's QK "
            "circuit (Q), its transpose (K) or its OV circuit (V); Σ_i c_i² over all components is the edge's score², "
            "and share = c_i²/score² is the part of the edge that component carries.";
        t.columns = {"writer", "reader", "kind", "score", "component", "singular_value", "contribution", "share"};
        Matrix m;
        m.key = "component_share";
        m.title = "Share of each edge carried by the writer's OV components";
        m.description = "Row: a graph edge; column: the writer's OV singular component (largest first); value: "
                        "c_i²/score², the part of the edge's squared composition score that component carries.";
        m.rows = static_cast<int>(g.edges.size());
        m.cols = static_cast<int>(components);
        for (int64_t i = 0; i < components; ++i) m.col_labels.push_back(std::to_string(i + 1));
        m.row_axis = "edge (writer -kind-> reader)";
        m.col_axis = "writer's OV singular component";
        for (const Graph::Edge& e : g.edges) {
            const Graph::Node& a = g.nodes[static_cast<size_t>(e.from)];
            const Graph::Node& b = g.nodes[static_cast<size_t>(e.to)];
            const FactoredMatrix writer = ov[static_cast<size_t>(a.layer)][a.head];
            const FactoredMatrix reader = e.kind == "V" ? ov[static_cast<size_t>(b.layer)][b.head]
                                          : e.kind == "K" ? qk[static_cast<size_t>(b.layer)][b.head].transpose()
                                                          : qk[static_cast<size_t>(b.layer)][b.head];
            const FactoredSvd svd = writer.svd();
            const at::Tensor x = at::matmul(svd.Vh, reader.A());                                 // [r, dh]
            const at::Tensor read = (at::matmul(x, at::matmul(reader.B(), reader.B().t())) * x).sum(-1).clamp_min(0).sqrt();
            const double denom = (writer.frobenius_norm() * reader.frobenius_norm()).item<double>();
            const at::Tensor contribution = (svd.S * read / std::max(denom, 1e-300)).cpu();
            const double score_sq = contribution.square().sum().item<double>();
            m.row_labels.push_back(fmt::format("{} -{}-> {}", a.id, e.kind, b.id));
            for (int64_t i = 0; i < components; ++i) {
                const double ci = i < contribution.size(0) ? contribution[i].item<double>() : 0.0;
                const double share = score_sq > 0 ? ci * ci / score_sq : 0.0;
                m.values.push_back(share);
                t.rows.push_back({a.id, b.id, e.kind, e.weight, i + 1, i < svd.S.size(0) ? svd.S[i].item<double>() : 0.0, ci,
                                  share});
            }
        }
        return {std::move(t), std::move(m)};
    }

    static Matrix matrix(const Kind& kind, std::vector<double> values, int L, int H, double baseline) {
        Matrix m;
        m.key = kind.key;
        m.title = kind.title;
        m.description = fmt::format(
            "{} score of writer head A (row) into reader head B (column) through {}; 0 unless B is in a later layer. "
            "Random baseline {:.4f}.",
            kind.title, kind.reads, baseline);
        m.rows = m.cols = L * H;
        m.values = std::move(values);
        for (int l = 0; l < L; ++l)
            for (int h = 0; h < H; ++h) m.row_labels.push_back(head_label(l, h));
        m.col_labels = m.row_labels;
        m.row_axis = "writer head (A)";
        m.col_axis = "reader head (B)";
        return m;
    }
};

}  // namespace

void register_composition(AnalysisRegistry& registry) {
    registry.add([] { return std::make_unique<Composition>(); });
}

}  // namespace headscope
