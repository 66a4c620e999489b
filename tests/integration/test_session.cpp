// The core session API the GUI's engine thread and the CLI share (headscope/session.hpp): the
// next-token metrics against a plain computation from the logits, the head_intervention
// analysis reporting exactly those numbers, and one provenance for both front ends. Also: items
// about one head carry it (qk_ov_svd's per-head spectra).
#include <torch/torch.h>

#include <catch2/catch.hpp>

#include <cmath>
#include <regex>

#include "headscope/interventions.hpp"
#include "headscope/model_loader.hpp"
#include "headscope/sdk/analysis_runner.hpp"
#include "headscope/session.hpp"
#include "support/analysis_support.hpp"
#include "support/test_support.hpp"

using namespace headscope;
using namespace headscope::test;

namespace {
LoadedModel tiny_world() { return load_model(source_dir() + "/data/models/tiny-world"); }

size_t column(const Table& t, const std::string& name) {
    for (size_t i = 0; i < t.columns.size(); ++i)
        if (t.columns[i] == name) return i;
    FAIL("no column " << name);
    return 0;
}

// p(answer), logit difference and KL from their definitions, with plain loops in double.
struct Plain {
    double p_answer, logit_diff, kl;
};
Plain plain(const at::Tensor& clean, const at::Tensor& edited, int64_t answer, int64_t alternative) {
    const at::Tensor a = clean.to(torch::kDouble).contiguous(), b = edited.to(torch::kDouble).contiguous();
    const double* x = a.data_ptr<double>();
    const double* y = b.data_ptr<double>();
    const int64_t V = a.size(0);
    double mx = -INFINITY, my = -INFINITY;
    for (int64_t i = 0; i < V; ++i) mx = std::max(mx, x[i]), my = std::max(my, y[i]);
    double zx = 0, zy = 0;
    for (int64_t i = 0; i < V; ++i) zx += std::exp(x[i] - mx), zy += std::exp(y[i] - my);
    double kl = 0;
    for (int64_t i = 0; i < V; ++i) {
        const double lx = x[i] - mx - std::log(zx), ly = y[i] - my - std::log(zy);
        kl += std::exp(lx) * (lx - ly);
    }
    return {std::exp(y[answer] - my) / zy, y[answer] - y[alternative], kl};
}
}  // namespace

TEST_CASE("next-token metrics equal their definitions and head_intervention reports them", "[session][head_intervention]") {
    LoadedModel m = tiny_world();
    const std::vector<TokenizedPrompt> prompts = tokenize_prompts(
        *m.tokenizer, {{"", "When Mary and John went to the store, John gave a drink to", " Mary", " John", ""},
                       {"", "The capital of France is", "", "", ""}});  // no answer: the model's top tokens
    const Result r = run_builtin("head_intervention", m, prompts, {{"heads", "L2H3,L3H0"}, {"scale", "0.25"}});
    const Table& pp = table(r, "per_prompt");
    REQUIRE(pp.rows.size() == prompts.size());
    torch::NoGradGuard no_grad;
    std::vector<HeadIntervention> edits;
    for (auto [l, h] : {std::pair{2, 3}, std::pair{3, 0}}) {
        HeadIntervention e;
        e.layer = l;
        e.head = h;
        e.mode = InterventionMode::scale;
        e.factor = 0.25;
        edits.push_back(e);
    }
    for (size_t i = 0; i < prompts.size(); ++i) {
        const at::Tensor tokens = torch::tensor(std::vector<int64_t>(prompts[i].ids.begin(), prompts[i].ids.end())).unsqueeze(0);
        const at::Tensor clean = m.model->forward(tokens)[0][-1];
        const at::Tensor edited = m.model->run_with_hooks(tokens, head_interventions(edits))[0][-1];
        const NextTokenTarget t = next_token_target(clean, prompts[i].answer_id, prompts[i].alternative_id);
        if (i == 0) {
            CHECK(t.answer == prompts[i].answer_id);
            CHECK(t.alternative == prompts[i].alternative_id);
            CHECK_FALSE(t.answer_from_model);
        } else {  // the clean run's top two tokens
            const auto top = std::get<1>(clean.topk(2));
            CHECK(t.answer == top[0].item<int64_t>());
            CHECK(t.alternative == top[1].item<int64_t>());
            CHECK(t.answer_from_model);
        }
        const Plain want = plain(clean, edited, t.answer, t.alternative);
        const NextTokenMetrics got = next_token_metrics(edited, t);
        CHECK(got.p_answer == Approx(want.p_answer).epsilon(1e-9));
        CHECK(got.logit_diff == Approx(want.logit_diff).epsilon(1e-9));
        CHECK(got.answer_logit == Approx(edited[t.answer].item<double>()).epsilon(1e-9));
        CHECK(next_token_kl(clean, edited) == Approx(want.kl).epsilon(1e-9).margin(1e-12));
        // The analysis (CLI) reports the same numbers the GUI's panel computes with these calls.
        CHECK(std::get<double>(pp.rows[i][column(pp, "p_answer_after")]) == got.p_answer);
        CHECK(std::get<double>(pp.rows[i][column(pp, "logit_diff_after")]) == got.logit_diff);
        CHECK(std::get<double>(pp.rows[i][column(pp, "kl_divergence")]) == next_token_kl(clean, edited));
    }
    CHECK_THROWS_AS(next_token_metrics(torch::zeros({2, 3}), NextTokenTarget{}), UsageError);
}

TEST_CASE("the CLI writes the session provenance", "[session][cli]") {
    TempDir tmp;
    CommandResult r = run_command({HEADSCOPE_CLI, "analyze", "--prompt", "When Mary and John went to the store",
                                   "--analysis", "pattern_statistics", "--out", tmp.file("r.h5")});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const Provenance written = read_results_file(tmp.file("r.h5")).provenance;
    LoadedModel m = tiny_world();
    const Provenance p = session_provenance(m, {"When Mary and John went to the store"}, "--prompt", "cmd");
    CHECK(written.model_facts == p.model_facts);
    CHECK(written.model_sha256 == p.model_sha256);
    CHECK(written.architecture == p.architecture);
    CHECK(written.prompts == p.prompts);
    const ModelConfig& c = m.model->config();
    CHECK(p.model_facts.at("n_kv_heads") == std::to_string(c.n_kv_heads));
    CHECK(p.model_facts.at("n_ctx") == std::to_string(c.n_ctx));
    CHECK(p.model_facts.at("parameters") == std::to_string(m.model->parameter_count()));
    CHECK(std::regex_match(p.created_utc, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")));
}

TEST_CASE("items about one head carry it: qk_ov_svd's per-head spectra", "[results][qk_ov_svd]") {
    LoadOptions o;
    o.tokenizer_path = stories_tokenizer();
    LoadedModel m = load_model(stories_bin(), o);
    const Result r = run_builtin("qk_ov_svd", m, {}, {{"top_k", "0"}});
    size_t spectra = 0;
    const std::regex key(R"(spectrum_L(\d+)H(\d+))");
    for (const auto& item : r.items) {
        const ItemHeader& h = header_of(item);
        std::smatch mt;
        if (std::regex_match(h.key, mt, key)) {
            ++spectra;
            REQUIRE(h.head.has_value());
            CHECK(h.head->layer == std::stoi(mt[1]));
            CHECK(h.head->head == std::stoi(mt[2]));
        } else {
            CHECK_FALSE(h.head.has_value());  // grids and tables are about every head
        }
    }
    CHECK(spectra == static_cast<size_t>(m.model->config().n_layers * m.model->config().n_heads));
}
