// head_intervention: scaling by 1 changes nothing, by 0 equals zero ablation, and the numbers
// match the independent GPT-2 reference (tests/reference/analysis_reference_b.py edit).
#include <torch/torch.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "headscope/error.hpp"
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
    return run_builtin("head_intervention", m, prompts, std::move(params));
}

double num(const Cell& c) { return std::get<double>(c); }

size_t column(const Table& t, const std::string& name) {
    auto it = std::find(t.columns.begin(), t.columns.end(), name);
    REQUIRE(it != t.columns.end());
    return static_cast<size_t>(it - t.columns.begin());
}

LoadedModel stories() {
    LoadOptions o;
    o.tokenizer_path = stories_tokenizer();
    return load_model(stories_bin(), o);
}

}  // namespace

TEST_CASE("head_intervention: scale 1 changes nothing, scale 0 equals zero ablation", "[head_intervention]") {
    LoadedModel m = stories();
    std::vector<TokenizedPrompt> prompts = tokenize_prompts(
        *m.tokenizer, {{"t", "Lily and Tom went to the park. Tom gave a ball to", "Lily", "Tom", ""},
                       {"t", "Once upon a time there was a little", "girl", "boy", ""}});
    Result one = run(m, prompts, {{"heads", "1.2,3.5,4.0"}, {"scale", "1"}});
    const Table& pp = table(one, "per_prompt");
    for (const auto& row : pp.rows) {
        CHECK(num(row[column(pp, "p_answer_before")]) == num(row[column(pp, "p_answer_after")]));
        CHECK(num(row[column(pp, "logit_diff_before")]) == num(row[column(pp, "logit_diff_after")]));
        CHECK(num(row[column(pp, "kl_divergence")]) == Approx(0.0).margin(1e-12));
    }
    Result scaled0 = run(m, prompts, {{"heads", "1.2,3.5,4.0"}, {"scale", "0"}});
    Result zero = run(m, prompts, {{"heads", "1.2,3.5,4.0"}, {"mode", "zero"}, {"scale", "0.7"}});
    const Table& a = table(scaled0, "per_prompt");
    const Table& b = table(zero, "per_prompt");
    REQUIRE(a.rows.size() == b.rows.size());
    for (size_t i = 0; i < a.rows.size(); ++i) {
        CHECK(num(a.rows[i][column(a, "p_answer_after")]) == num(b.rows[i][column(b, "p_answer_after")]));
        CHECK(num(a.rows[i][column(a, "logit_diff_after")]) == num(b.rows[i][column(b, "logit_diff_after")]));
        CHECK(num(a.rows[i][column(a, "kl_divergence")]) > 1e-6);  // it did something
    }
    // The "before" top tokens are the clean model's own top tokens.
    torch::NoGradGuard no_grad;
    const TokenizedPrompt& p = prompts[0];
    torch::Tensor logits = m.model->forward(torch::tensor(std::vector<int64_t>(p.ids.begin(), p.ids.end())).unsqueeze(0))[0][-1];
    auto [probs, ids] = torch::softmax(logits.to(torch::kDouble), -1).topk(5);
    const Table& top = table(zero, "top_tokens");
    for (int64_t r = 0; r < 5; ++r) {
        CHECK(std::get<std::string>(top.rows[static_cast<size_t>(r)][2]) == m.tokenizer->token_text(static_cast<int32_t>(ids[r].item<int64_t>())));
        CHECK(num(top.rows[static_cast<size_t>(r)][3]) == Approx(probs[r].item<double>()).margin(1e-9));
    }
    CHECK(zero.head_grid("head_factor")->at(3, 5) == 0.0);
    CHECK(zero.head_grid("head_factor")->at(3, 4) == 1.0);
}

TEST_CASE("head_intervention matches the independent GPT-2 reference", "[head_intervention][reference]") {
    TempDir tmp;
    const std::string dir = tmp.file("gpt2");
    run_reference("hf_reference.py", {"write", "gpt2", dir, "--seed", "13"});
    LoadedModel m = load_model(dir);
    std::vector<TokenizedPrompt> prompts = tokenize_prompts(*m.tokenizer, {{"t", "Where is the cat?", "A", "B", ""}});
    const TokenizedPrompt& p = prompts[0];
    for (const char* scale : {"0.5", "2", "0"}) {
        INFO("scale " << scale);
        Result r = run(m, prompts, {{"heads", "0.0,1.2"}, {"scale", scale}});
        auto ref = nlohmann::json::parse(run_reference(
            "analysis_reference_b.py",
            {"edit", dir, ids_json(p.ids), std::to_string(p.answer_id), std::to_string(p.alternative_id), "0.0,1.2", scale}));
        const Table& pp = table(r, "per_prompt");
        const auto& row = pp.rows.at(0);
        CHECK(num(row[column(pp, "logit_diff_after")]) == Approx(ref.at("logit_diff").get<double>()).margin(1e-4));
        CHECK(num(row[column(pp, "logit_diff_before")]) == Approx(ref.at("logit_diff_clean").get<double>()).margin(1e-4));
        CHECK(num(row[column(pp, "p_answer_after")]) == Approx(ref.at("p_answer").get<double>()).epsilon(1e-3));
        CHECK(num(row[column(pp, "p_answer_before")]) == Approx(ref.at("p_answer_clean").get<double>()).epsilon(1e-3));
    }
}

TEST_CASE("head_intervention refuses missing or unknown heads", "[head_intervention]") {
    LoadedModel m = stories();
    std::vector<TokenizedPrompt> prompts = tokenize_prompts(*m.tokenizer, {{"", "Once upon a time", "", "", ""}});
    Progress quiet;
    Result none = run_analysis(builtin_registry(), {"head_intervention", {}}, *m.model, *m.tokenizer, prompts, quiet);
    CHECK(none.error.find("head_intervention.heads") != std::string::npos);
    Result bad = run_analysis(builtin_registry(), {"head_intervention", {{"heads", "7.0"}}}, *m.model, *m.tokenizer, prompts, quiet);
    CHECK(bad.error.find("L7H0") != std::string::npos);
    // A prompt without answer: the clean top token is the answer, and the summary says so.
    Result ok = run(m, prompts, {{"heads", "0.1"}, {"scale", "0.5"}});
    bool said = false;
    for (const auto& line : ok.summary) said |= line.find("lack an answer") != std::string::npos;
    CHECK(said);
}
