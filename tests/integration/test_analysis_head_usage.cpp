// head_usage against numpy (tests/reference/analysis_reference_papers.py usage forms every
// head's output z_h·W_O[h] from the cached z and the weights and takes its norm), per token.
#include <torch/torch.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>

#include "headscope/model_loader.hpp"
#include "support/analysis_support.hpp"
#include "support/reference.hpp"
#include "support/test_support.hpp"

using namespace headscope;
using namespace headscope::test;

TEST_CASE("head_usage equals numpy per token and on average (GQA)", "[head_usage][reference]") {
    torch::NoGradGuard no_grad;
    TempDir tmp;
    LoadedModel m = load_model(source_dir() + "/data/models/tiny-world");
    const ModelConfig& c = m.model->config();
    const std::vector<TokenizedPrompt> prompts = tokenize_prompts(
        *m.tokenizer, {{"t", "The capital of France is Paris. The capital of Spain is", "", "", ""},
                       {"t", "Alice went to the market and bought", "", "", ""}});
    const Result r = run_builtin("head_usage", m, prompts, {{"prompts_listed", "1"}});
    const Table& per_token = table(r, "per_token");
    const int64_t T0 = static_cast<int64_t>(prompts[0].ids.size());
    REQUIRE(per_token.rows.size() == static_cast<size_t>(T0 * c.n_layers));

    torch::Tensor share_sum = torch::zeros({c.n_layers, c.n_heads}, torch::kDouble);
    int64_t counted = 0;
    for (size_t p = 0; p < prompts.size(); ++p) {
        const torch::Tensor tokens =
            torch::tensor(std::vector<int64_t>(prompts[p].ids.begin(), prompts[p].ids.end())).unsqueeze(0);
        const CachedRun run = m.model->run_with_cache(tokens, {"blocks.*.attn.hook_z"});
        const int64_t T = tokens.size(1);
        counted += T - 1;
        for (int l = 0; l < c.n_layers; ++l) {
            const std::string acts = "{\"z\": " + tensor_json(run.cache.at(HookSite::attn_z, l)[0]) +
                                     ", \"W_O\": " + tensor_json(m.model->weights().layers[static_cast<size_t>(l)].W_O) + "}";
            write_file(tmp.file("acts.json"), acts);
            const nlohmann::json ref =
                nlohmann::json::parse(run_reference("analysis_reference_papers.py", {"usage", tmp.file("acts.json")}));
            for (int64_t t = 1; t < T; ++t)
                for (int h = 0; h < c.n_heads; ++h) share_sum[l][h] += ref["share"][t][h].get<double>();
            if (p != 0) continue;
            for (int64_t t = 0; t < T; ++t) {
                const auto& row = per_token.rows[static_cast<size_t>(l * T0 + t)];  // layer-major
                INFO("layer " << l << " position " << t);
                REQUIRE(std::get<int64_t>(row[1]) == t);
                REQUIRE(std::get<int64_t>(row[3]) == l);
                CHECK(std::get<double>(row[4]) == Approx(ref["entropy"][t].get<double>()).margin(1e-5));
                CHECK(std::get<int64_t>(row[5]) == ref["half"][t].get<int64_t>());
            }
        }
    }
    const HeadGrid& mean = grid(r, "mean_share");
    for (int l = 0; l < c.n_layers; ++l) {
        double row = 0;
        for (int h = 0; h < c.n_heads; ++h) {
            INFO("L" << l << "H" << h);
            CHECK(mean.at(l, h) == Approx(share_sum[l][h].item<double>() / counted).margin(1e-6));
            row += mean.at(l, h);
        }
        CHECK(row == Approx(1.0).margin(1e-9));
    }
    const Table& per_layer = table(r, "per_layer");
    REQUIRE(per_layer.rows.size() == static_cast<size_t>(c.n_layers));
    for (const auto& row : per_layer.rows) {
        CHECK(std::get<double>(row[1]) >= 0.0);
        CHECK(std::get<double>(row[1]) <= std::log(static_cast<double>(c.n_heads)) + 1e-9);
        CHECK(std::get<double>(row[3]) >= 1.0);
    }
    const TokenScores& ts = item<TokenScores>(r, "usage_entropy_p0");
    CHECK(ts.tokens.size() == static_cast<size_t>(T0));
    CHECK(r.find("usage_entropy_p1") == nullptr);
}
