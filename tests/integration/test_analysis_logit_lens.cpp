// logit_lens: at the last layer it is the model's own output; at the embeddings and in between
// it equals the final norm and unembedding written out plainly here on cached residuals.
#include <torch/torch.h>

#include <catch2/catch.hpp>

#include "headscope/model_loader.hpp"
#include "headscope/sdk/analysis_runner.hpp"
#include "support/reference.hpp"
#include "support/test_support.hpp"

namespace headscope {
void register_logit_lens(AnalysisRegistry& registry);
}

using namespace headscope;
using namespace headscope::test;

namespace {

Result run_lens(HookedTransformer& model, const Tokenizer& tok, const std::vector<TokenizedPrompt>& prompts,
                std::map<std::string, std::string> params = {}) {
    AnalysisRegistry registry;
    register_logit_lens(registry);
    Progress progress;
    Result r = run_analysis(registry, {"logit_lens", std::move(params)}, model, tok, prompts, progress);
    INFO(r.error);
    REQUIRE(r.error.empty());
    return r;
}

// Final norm + unembedding, written out in float64: LayerNorm or RMSNorm by the config.
torch::Tensor plain_lens(const ModelConfig& c, const ModelWeights& w, torch::Tensor x) {
    x = x.to(torch::kDouble);
    if (c.norm == NormKind::layer) {
        const torch::Tensor mu = x.mean(-1, true);
        const torch::Tensor var = (x - mu).pow(2).mean(-1, true);
        x = (x - mu) / torch::sqrt(var + c.norm_eps) * w.ln_final_w.to(torch::kDouble) + w.ln_final_b.to(torch::kDouble);
    } else {
        x = x / torch::sqrt(x.pow(2).mean(-1, true) + c.norm_eps) * w.ln_final_w.to(torch::kDouble);
    }
    torch::Tensor logits = torch::matmul(x, w.W_U.to(torch::kDouble));
    if (w.b_U.defined()) logits = logits + w.b_U.to(torch::kDouble);
    return logits;
}

void check_lens(LoadedModel& m, const std::vector<PromptExample>& examples) {
    torch::NoGradGuard no_grad;
    const ModelConfig& c = m.model->config();
    const ModelWeights& w = m.model->weights();
    const std::vector<TokenizedPrompt> prompts = tokenize_prompts(*m.tokenizer, examples);
    const Result r = run_lens(*m.model, *m.tokenizer, prompts, {{"top_k", "4"}});
    const ResultItem* ti = r.find("top_predictions");
    REQUIRE(ti != nullptr);
    const Table& table = std::get<Table>(*ti);
    REQUIRE(table.columns ==
            std::vector<std::string>{"prompt", "layer", "position", "token", "rank", "prediction", "logit", "probability"});
    const std::string last_layer = "L" + std::to_string(c.n_layers - 1);

    for (size_t p = 0; p < prompts.size(); ++p) {
        const TokenizedPrompt& prompt = prompts[p];
        const int64_t T = static_cast<int64_t>(prompt.ids.size());
        const torch::Tensor tokens =
            torch::tensor(std::vector<int64_t>(prompt.ids.begin(), prompt.ids.end()), torch::kLong).unsqueeze(0);
        CachedRun run = m.model->run_with_cache(tokens, {"blocks.1.hook_resid_post"});
        const torch::Tensor logits = run.logits[0].to(torch::kDouble);  // [T, V]
        const torch::Tensor probs = logits.softmax(-1);
        auto [top_logits, top_ids] = logits.topk(4, -1);

        // The table at the last layer: the model's own top-4 logits and probabilities.
        int found = 0;
        for (const auto& row : table.rows) {
            if (std::get<int64_t>(row[0]) != static_cast<int64_t>(p) || std::get<std::string>(row[1]) != last_layer)
                continue;
            const int64_t t = std::get<int64_t>(row[2]), k = std::get<int64_t>(row[4]) - 1;
            INFO("prompt " << p << " position " << t << " rank " << k);
            CHECK(std::get<double>(row[6]) == Approx(top_logits[t][k].item<double>()).margin(1e-4));
            CHECK(std::get<double>(row[7]) == Approx(probs[t][top_ids[t][k]].item<double>()).margin(1e-5));
            ++found;
        }
        CHECK(found == T * 4);

        // The probability matrix: rows embed, L0..L{n-1}; columns positions.
        const ResultItem* mi = r.find("target_probability_p" + std::to_string(p));
        REQUIRE(mi != nullptr);
        const Matrix& mat = std::get<Matrix>(*mi);
        REQUIRE(mat.rows == c.n_layers + 1);
        REQUIRE(mat.cols == T);
        CHECK(mat.row_labels.front() == "embed");
        CHECK(mat.row_labels.back() == last_layer);
        torch::Tensor target = logits.argmax(-1);
        if (prompt.answer_id >= 0) target[T - 1] = prompt.answer_id;
        const auto row_of = [&](int r) {
            return torch::tensor(std::vector<double>(mat.values.begin() + r * T, mat.values.begin() + (r + 1) * T),
                                 torch::kDouble);
        };
        const auto target_probs = [&](const torch::Tensor& lens_logits) {
            return lens_logits.softmax(-1).gather(1, target.unsqueeze(1)).squeeze(1);
        };
        CHECK((row_of(c.n_layers) - target_probs(logits)).abs().max().item<double>() < 1e-5);
        // After layer 1, and at the embeddings (token + position embeddings), written out plainly.
        CHECK((row_of(2) - target_probs(plain_lens(c, w, run.cache.at("blocks.1.hook_resid_post")[0])))
                  .abs()
                  .max()
                  .item<double>() < 1e-5);
        torch::Tensor embed = w.W_E.index_select(0, tokens[0]);
        if (w.W_pos.defined()) embed = embed + w.W_pos.narrow(0, 0, T);
        CHECK((row_of(0) - target_probs(plain_lens(c, w, embed))).abs().max().item<double>() < 1e-5);

        // Settling depth: from that row on the lens's top-1 is the final prediction.
        const TokenScores& settle = std::get<TokenScores>(*r.find("settling_depth_p" + std::to_string(p)));
        REQUIRE(settle.scores.size() == static_cast<size_t>(T));
        CHECK(settle.tokens == prompt.token_texts);
        const auto depth = static_cast<int>(settle.scores.back());
        std::map<int, std::string> top1;  // lens row -> rank-1 prediction at the last position
        for (const auto& row : table.rows) {
            if (std::get<int64_t>(row[0]) != static_cast<int64_t>(p) || std::get<int64_t>(row[2]) != T - 1 ||
                std::get<int64_t>(row[4]) != 1)
                continue;
            const std::string& layer = std::get<std::string>(row[1]);
            top1[layer == "embed" ? 0 : std::stoi(layer.substr(1)) + 1] = std::get<std::string>(row[5]);
        }
        REQUIRE(top1.size() == static_cast<size_t>(c.n_layers + 1));
        for (const auto& [row, prediction] : top1) {
            INFO("row " << row << " settling depth " << depth);
            if (row >= depth) CHECK(prediction == top1[c.n_layers]);
            if (row == depth - 1) CHECK(prediction != top1[c.n_layers]);
        }
    }
}

}  // namespace

TEST_CASE("logit_lens at the last layer equals the model's logits (stories260K)", "[logit_lens][stories]") {
    LoadedModel m = load_model(stories_bin());
    PromptExample a, b;
    a.prompt = "Once upon a time, there was a little girl";
    a.answer = " named";
    b.prompt = "The cat sat on the";
    check_lens(m, {a, b});
}

TEST_CASE("logit_lens at the last layer equals the model's logits (GPT-2 shaped)", "[logit_lens][hf]") {
    TempDir tmp;
    const std::string dir = tmp.file("gpt2");
    run_reference("hf_reference.py", {"write", "gpt2", dir, "--seed", "2", "--layers", "3"});
    LoadedModel m = load_model(dir);
    PromptExample a;
    a.prompt = "hello world, hello";
    a.answer = " world";
    check_lens(m, {a});
}

TEST_CASE("logit_lens limits prompts and positions", "[logit_lens]") {
    LoadedModel m = load_model(stories_bin());
    PromptExample a, b, c;
    a.prompt = "One day";
    b.prompt = "Lily was happy";
    c.prompt = "The sun";
    const auto prompts = tokenize_prompts(*m.tokenizer, {a, b, c});
    const Result r = run_lens(*m.model, *m.tokenizer, prompts, {{"max_prompts", "2"}, {"positions", "last"}, {"top_k", "3"}});
    const Table& t = std::get<Table>(*r.find("top_predictions"));
    CHECK(t.rows.size() == 2u * static_cast<size_t>(m.model->config().n_layers + 1) * 3u);
    CHECK(r.find("target_probability_p1") != nullptr);
    CHECK(r.find("target_probability_p2") == nullptr);
    AnalysisRegistry registry;
    register_logit_lens(registry);
    Progress progress;
    CHECK_THROWS_AS(run_analysis(registry, {"logit_lens", {}}, *m.model, *m.tokenizer, {}, progress), UsageError);
}
