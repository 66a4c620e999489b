// composition against the dense formula computed independently
// (tests/reference/analysis_reference_a.py forms every d_model×d_model circuit with numpy), and
// its random baseline against a plain dense Monte-Carlo estimate.
#include <torch/torch.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "headscope/model_loader.hpp"
#include "headscope/sdk/analysis_runner.hpp"
#include "support/reference.hpp"
#include "support/analysis_support.hpp"
#include "support/test_support.hpp"

namespace headscope {
void register_composition(AnalysisRegistry& registry);
}

using namespace headscope;
using namespace headscope::test;

namespace {

Result run_composition(HookedTransformer& model, const Tokenizer& tok, std::map<std::string, std::string> params) {
    AnalysisRegistry registry;
    register_composition(registry);
    Progress progress;
    Result r = run_analysis(registry, {"composition", std::move(params)}, model, tok, {}, progress);
    INFO(r.error);
    REQUIRE(r.error.empty());
    return r;
}

void check_against_reference(HookedTransformer& model, const Tokenizer& tok, const std::string& path, bool fold) {
    const Result r = run_composition(model, tok, {{"fold_norm_weights", fold ? "true" : "false"}});
    std::vector<std::string> args{"circuits", path, "--composition"};
    if (fold) args.push_back("--fold");
    const nlohmann::json ref = nlohmann::json::parse(run_reference("analysis_reference_a.py", args)).at("composition");
    const ModelConfig& c = model.config();
    const int N = c.n_layers * c.n_heads;
    for (const char* kind : {"Q", "K", "V"}) {
        const Matrix& m = matrix(r, std::string(1, static_cast<char>(std::tolower(kind[0]))) + "_composition");
        REQUIRE(m.rows == N);
        REQUIRE(m.cols == N);
        CHECK(m.row_labels[static_cast<size_t>(c.n_heads + 1)] == "L1H1");
        for (int a = 0; a < N; ++a)
            for (int b = 0; b < N; ++b) {
                const double want = ref.at(kind)[static_cast<size_t>(a)][static_cast<size_t>(b)].get<double>();
                const double got = m.values[static_cast<size_t>(a * N + b)];
                INFO(kind << "-composition " << m.row_labels[static_cast<size_t>(a)] << " -> "
                          << m.col_labels[static_cast<size_t>(b)]);
                CHECK(got == Approx(want).epsilon(1e-6).margin(1e-12));
            }
    }
    // The graph: edges between heads of increasing layers, strongest first, each equal to its
    // matrix entry and above the threshold stated in the summary.
    const ResultItem* gi = r.find("composition_graph");
    REQUIRE(gi != nullptr);
    const Graph& g = std::get<Graph>(*gi);
    REQUIRE(g.nodes.size() == static_cast<size_t>(N));
    CHECK(g.edges.size() <= 40);
    for (size_t e = 0; e < g.edges.size(); ++e) {
        const Graph::Edge& edge = g.edges[e];
        CHECK(g.nodes[static_cast<size_t>(edge.from)].layer < g.nodes[static_cast<size_t>(edge.to)].layer);
        const double want = ref.at(edge.kind)[static_cast<size_t>(edge.from)][static_cast<size_t>(edge.to)].get<double>();
        CHECK(edge.weight == Approx(want).epsilon(1e-6));
        if (e > 0) CHECK(edge.weight <= g.edges[e - 1].weight);
    }
}

}  // namespace

TEST_CASE("composition scores equal the dense formula on stories260K (GQA)", "[composition][reference][stories]") {
    LoadedModel m = load_model(stories_bin());
    SECTION("raw weights") { check_against_reference(*m.model, *m.tokenizer, stories_bin(), false); }
    SECTION("norm weights folded") { check_against_reference(*m.model, *m.tokenizer, stories_bin(), true); }
}

TEST_CASE("composition scores equal the dense formula on a random GPT-2 shaped model", "[composition][reference][hf]") {
    TempDir tmp;
    const std::string dir = tmp.file("gpt2");
    run_reference("hf_reference.py", {"write", "gpt2", dir, "--seed", "4", "--layers", "3"});
    LoadedModel m = load_model(dir);
    REQUIRE(m.model->config().n_layers == 3);
    check_against_reference(*m.model, *m.tokenizer, dir, true);
}

TEST_CASE("composition's random baseline matches a dense Monte-Carlo estimate", "[composition]") {
    torch::NoGradGuard no_grad;
    LoadedModel m = load_model(stories_bin());
    const ModelConfig& c = m.model->config();
    const Result r = run_composition(*m.model, *m.tokenizer, {{"baseline_samples", "64"}, {"top_edges", "5"}});
    // "random baseline 0.xxxx; ..." -> the number.
    REQUIRE_FALSE(r.summary.empty());
    const double baseline = std::stod(r.summary[0].substr(std::string("random baseline ").size()));
    torch::manual_seed(5);
    double sum = 0;
    const int samples = 256;
    for (int i = 0; i < samples; ++i) {
        const auto rnd = [&](int64_t a, int64_t b) { return torch::randn({a, b}, torch::kDouble); };
        const torch::Tensor x = torch::matmul(rnd(c.d_model, c.d_head), rnd(c.d_head, c.d_model));
        const torch::Tensor y = torch::matmul(rnd(c.d_model, c.d_head), rnd(c.d_head, c.d_model));
        sum += (torch::linalg_norm(torch::matmul(x, y), "fro") /
                (torch::linalg_norm(x, "fro") * torch::linalg_norm(y, "fro")))
                   .item<double>();
    }
    CHECK(baseline == Approx(sum / samples).epsilon(0.05));
    CHECK(std::get<Graph>(*r.find("composition_graph")).edges.size() <= 5);
    // Same seed, same baseline; another seed, a slightly different one.
    const Result again = run_composition(*m.model, *m.tokenizer, {{"baseline_samples", "64"}, {"top_edges", "5"}});
    CHECK(again.summary[0] == r.summary[0]);
}

TEST_CASE("composition rejects bad parameters before running", "[composition]") {
    LoadedModel m = load_model(stories_bin());
    AnalysisRegistry registry;
    register_composition(registry);
    Progress progress;
    CHECK_THROWS_AS(run_analysis(registry, {"composition", {{"top_edges", "0"}}}, *m.model, *m.tokenizer, {}, progress),
                    UsageError);
    CHECK_THROWS_AS(run_analysis(registry, {"composition", {{"nonsense", "1"}}}, *m.model, *m.tokenizer, {}, progress),
                    UsageError);
}
