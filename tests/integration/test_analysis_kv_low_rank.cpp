// kv_low_rank: PCA ranks against numpy on the cached keys and values
// (tests/reference/analysis_reference_papers.py pca), and on keys planted to have rank 3: their
// numerical rank is 3 and a rank-3 key cache costs nothing while rank 1 does.
#include <torch/torch.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "headscope/model_loader.hpp"
#include "support/analysis_support.hpp"
#include "support/reference.hpp"
#include "support/test_support.hpp"

using namespace headscope;
using namespace headscope::test;

namespace {

std::string tiny_world() { return source_dir() + "/data/models/tiny-world"; }

std::vector<TokenizedPrompt> some_prompts(const Tokenizer& tok) {
    return tokenize_prompts(tok, {{"t", "The capital of France is Paris. The capital of Spain is", " Madrid", " Paris", ""},
                                  {"t", "Alice went to the market and bought some apples and", "", "", ""},
                                  {"t", "One two three four five six seven eight", " nine", " ten", ""}});
}

int64_t cell_int(const Cell& c) { return std::get<int64_t>(c); }

const std::vector<Cell>& cost_row(const Table& t, const std::string& site, int64_t rank) {
    for (const auto& row : t.rows)
        if (std::get<std::string>(row[0]) == site && cell_int(row[1]) == rank) return row;
    FAIL("no cost row for " << site << " rank " << rank);
    return t.rows.front();
}

}  // namespace

TEST_CASE("kv_low_rank ranks equal numpy PCA of the cached keys and values (GQA)", "[kv_low_rank][reference]") {
    torch::NoGradGuard no_grad;
    TempDir tmp;
    LoadedModel m = load_model(tiny_world());
    const ModelConfig& c = m.model->config();
    REQUIRE(c.n_kv_heads < c.n_heads);
    const std::vector<TokenizedPrompt> prompts = some_prompts(*m.tokenizer);
    const Result r = run_builtin("kv_low_rank", m, prompts, {{"measure_cost", "false"}});
    const Table& ranks = table(r, "ranks");
    REQUIRE(ranks.rows.size() == static_cast<size_t>(3 * c.n_layers * c.n_kv_heads));
    REQUIRE(r.find("rank_r_cost") == nullptr);
    const std::pair<const char*, HookSite> sites[3] = {
        {"k", HookSite::attn_k}, {"rot_k", HookSite::attn_rot_k}, {"v", HookSite::attn_v}};
    for (int l : {0, c.n_layers - 1})
        for (const auto& [name, site] : sites) {
            std::vector<torch::Tensor> xs;
            for (const auto& p : prompts) {
                const torch::Tensor tokens = torch::tensor(std::vector<int64_t>(p.ids.begin(), p.ids.end())).unsqueeze(0);
                xs.push_back(m.model->run_with_cache(tokens, {hook_name(HookKey{site, l})}).cache.at(site, l)[0]);
            }
            write_file(tmp.file("acts.json"), "{\"x\": " + tensor_json(torch::cat(xs, 0)) + "}");
            const nlohmann::json ref =
                nlohmann::json::parse(run_reference("analysis_reference_papers.py", {"pca", tmp.file("acts.json")}));
            for (int k = 0; k < c.n_kv_heads; ++k) {
                const std::vector<Cell>* row = nullptr;
                for (const auto& rr : ranks.rows)
                    if (cell_int(rr[0]) == l && cell_int(rr[1]) == k && std::get<std::string>(rr[2]) == name) row = &rr;
                REQUIRE(row != nullptr);
                INFO("layer " << l << " kv head " << k << " " << name);
                CHECK(cell_int((*row)[3]) == ref["rank_90"][k].get<int64_t>());
                CHECK(cell_int((*row)[4]) == ref["rank_95"][k].get<int64_t>());
                CHECK(cell_int((*row)[5]) == ref["rank_99"][k].get<int64_t>());
                CHECK(cell_int((*row)[6]) == ref["numerical_rank"][k].get<int64_t>());
                if (std::string(name) == "k")
                    CHECK(item<HeadGrid>(r, "rank95_k").at(l, k) == ref["rank_95"][k].get<double>());
            }
        }
    const HeadGrid& g = item<HeadGrid>(r, "rank95_v");
    CHECK(g.heads == c.n_kv_heads);
    CHECK(item<Spectrum>(r, "energy_rot_k_L0").series.size() == static_cast<size_t>(c.n_kv_heads));
}

TEST_CASE("kv_low_rank on planted rank-3 keys: rank 3 and a free rank-3 cache", "[kv_low_rank]") {
    torch::NoGradGuard no_grad;
    torch::manual_seed(11);
    LoadedModel m = load_model(tiny_world());
    const ModelConfig& c = m.model->config();
    const int planted = 3;
    ModelWeights w = m.model->weights();
    for (auto& layer : w.layers) {
        layer.W_K = torch::matmul(torch::randn({c.n_kv_heads, c.d_model, planted}) * 0.3,
                                  torch::randn({c.n_kv_heads, planted, c.d_head}) * 0.3);
    }
    m.model->set_weights(w);
    const std::vector<TokenizedPrompt> prompts = some_prompts(*m.tokenizer);
    const Result r = run_builtin("kv_low_rank", m, prompts, {{"ranks", "1," + std::to_string(planted) + "," + std::to_string(c.d_head)}});
    for (const auto& row : table(r, "ranks").rows)
        if (std::get<std::string>(row[2]) == "k") {
            CHECK(cell_int(row[6]) == planted);
            CHECK(cell_int(row[5]) <= planted);
        }
    for (const auto& row : table(r, "joint_ranks").rows)
        if (std::get<std::string>(row[1]) == "W_K") CHECK(cell_int(row[5]) == planted * c.n_kv_heads);
    const Table& cost = table(r, "rank_r_cost");
    REQUIRE(cost.rows.size() == 9);  // 3 sites x 3 ranks
    CHECK(std::get<double>(cost_row(cost, "k", planted)[2]) < 1e-8);
    CHECK(std::get<double>(cost_row(cost, "k", 1)[2]) > 1e-4);
    // r = d_head keeps everything.
    CHECK(std::get<double>(cost_row(cost, "v", c.d_head)[2]) < 1e-8);
    CHECK(std::get<double>(cost_row(cost, "rot_k", c.d_head)[2]) < 1e-8);
    // Fewer value components cost more.
    CHECK(std::get<double>(cost_row(cost, "v", 1)[2]) > std::get<double>(cost_row(cost, "v", planted)[2]));

    Progress quiet;
    CHECK_THAT(run_analysis(builtin_registry(), {"kv_low_rank", {{"ranks", "2,x"}}}, *m.model, *m.tokenizer, prompts, quiet).error,
               Catch::Contains("'x' is not a positive integer"));
    CHECK_THAT(run_analysis(builtin_registry(), {"kv_low_rank", {{"ranks", "0"}}}, *m.model, *m.tokenizer, prompts, quiet).error,
               Catch::Contains("kv_low_rank.ranks"));
}
