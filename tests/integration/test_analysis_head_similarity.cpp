// head_similarity against the independent reference (Jensen–Shannon similarity and UPGMA merge
// heights computed in numpy from the reference's own forward pass), and on a planted duplicate
// head.
#include <torch/torch.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "headscope/model_loader.hpp"
#include "headscope/sdk/analysis_runner.hpp"
#include "headscope/sdk/plugin_loader.hpp"
#include "support/reference.hpp"
#include "support/analysis_support.hpp"
#include "support/test_support.hpp"

using namespace headscope;
using namespace headscope::test;

namespace {

Result run(LoadedModel& m, const std::vector<TokenizedPrompt>& prompts, std::map<std::string, std::string> params = {}) {
    return run_builtin("head_similarity", m, prompts, std::move(params));
}


}  // namespace

TEST_CASE("head_similarity equals the independent JS similarity and UPGMA heights", "[head_similarity][reference]") {
    TempDir tmp;
    const std::string dir = tmp.file("gpt2");
    run_reference("hf_reference.py", {"write", "gpt2", dir, "--seed", "4"});
    LoadedModel m = load_model(dir);
    std::vector<TokenizedPrompt> prompts =
        tokenize_prompts(*m.tokenizer, {{"", "Heads that look alike", "", "", ""}, {"", "abc abc abc", "", "", ""}});
    Result r = run(m, prompts);
    auto ref = nlohmann::json::parse(run_reference(
        "analysis_reference_b.py", {"similarity", dir, ids_json(prompts[0].ids), ids_json(prompts[1].ids)}));
    const Matrix& sim = item<Matrix>(r, "similarity");
    const int N = sim.rows;
    REQUIRE(N == m.model->config().n_layers * m.model->config().n_heads);
    REQUIRE(sim.row_labels.at(static_cast<size_t>(N - 1)) == "L1H3");
    double worst = 0;
    for (int a = 0; a < N; ++a)
        for (int b = 0; b < N; ++b)
            worst = std::max(worst, std::abs(sim.values[static_cast<size_t>(a * N + b)] -
                                             ref.at("similarity")[static_cast<size_t>(a)][static_cast<size_t>(b)].get<double>()));
    CHECK(worst < 1e-5);
    std::vector<double> ours, theirs = ref.at("merge_distances").get<std::vector<double>>();
    for (const auto& row : item<Table>(r, "linkage").rows) ours.push_back(std::get<double>(row[3]));
    REQUIRE(ours.size() == theirs.size());
    for (size_t i = 0; i < ours.size(); ++i) CHECK(ours[i] == Approx(theirs[i]).margin(1e-5));

    // The clustered matrix is the same matrix in dendrogram order.
    const Matrix& clustered = item<Matrix>(r, "similarity_clustered");
    const Table& order = item<Table>(r, "cluster_order");
    std::vector<int> perm;
    for (const auto& row : order.rows) perm.push_back(static_cast<int>(std::get<int64_t>(row[2]) * 4 + std::get<int64_t>(row[3])));
    std::vector<int> sorted = perm;
    std::sort(sorted.begin(), sorted.end());
    for (int i = 0; i < N; ++i) CHECK(sorted[static_cast<size_t>(i)] == i);
    for (int a = 0; a < N; ++a)
        for (int b = 0; b < N; ++b)
            CHECK(clustered.values[static_cast<size_t>(a * N + b)] ==
                  sim.values[static_cast<size_t>(perm[static_cast<size_t>(a)] * N + perm[static_cast<size_t>(b)])]);
}

TEST_CASE("head_similarity finds a planted duplicate head across layers", "[head_similarity]") {
    LoadOptions o;
    o.tokenizer_path = stories_tokenizer();
    LoadedModel m = load_model(stories_bin(), o);
    std::vector<TokenizedPrompt> prompts = tokenize_prompts(
        *m.tokenizer, {{"", "Lily and Tom went to the park to play.", "", "", ""}, {"", "The sun was hot and the sky was blue.", "", "", ""}});
    // Layer 4 head 6 copies layer 1 head 2's pattern (captured in the same forward pass).
    auto captured = std::make_shared<torch::Tensor>();
    HookHandle take = m.model->add_hook(hook_name("pattern", 1), [captured](const at::Tensor& p, const HookPoint&) -> std::optional<at::Tensor> {
        *captured = p.select(1, 2).clone();
        return std::nullopt;
    });
    HookHandle give = m.model->add_hook(hook_name("pattern", 4), [captured](const at::Tensor& p, const HookPoint&) -> std::optional<at::Tensor> {
        torch::Tensor out = p.clone();
        out.select(1, 6).copy_(*captured);
        return out;
    });
    Result r = run(m, prompts, {{"cluster_distance", "1e-9"}});
    const Matrix& sim = item<Matrix>(r, "similarity");
    const int H = 8, a = 1 * H + 2, b = 4 * H + 6;
    CHECK(sim.values[static_cast<size_t>(a * sim.cols + b)] == Approx(1.0).margin(1e-9));
    const Table& pairs = item<Table>(r, "redundant_pairs");
    REQUIRE(!pairs.rows.empty());
    CHECK(std::get<std::string>(pairs.rows[0][0]) == "L1H2");
    CHECK(std::get<std::string>(pairs.rows[0][1]) == "L4H6");
    // At a cut just above 0 the duplicate pair is the only cluster, adjacent in the order.
    const Table& clusters = item<Table>(r, "clusters");
    REQUIRE(clusters.rows.size() == 1);
    CHECK(std::get<std::string>(clusters.rows[0][3]) == "L1H2 L4H6");
    const Table& order = item<Table>(r, "cluster_order");
    size_t pa = 0, pb = 0;
    for (size_t i = 0; i < order.rows.size(); ++i) {
        if (std::get<std::string>(order.rows[i][1]) == "L1H2") pa = i;
        if (std::get<std::string>(order.rows[i][1]) == "L4H6") pb = i;
    }
    CHECK((pa > pb ? pa - pb : pb - pa) == 1);
}
