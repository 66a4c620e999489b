// qk_ov_svd against an independent dense computation (tests/reference/analysis_reference_a.py
// reads the checkpoint itself, forms every d_model×d_model circuit and decomposes it with numpy),
// and on heads whose copying behaviour is known by construction.
#include <torch/torch.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include <cmath>

#include "headscope/model_loader.hpp"
#include "headscope/sdk/analysis_runner.hpp"
#include "support/reference.hpp"
#include "support/analysis_support.hpp"
#include "support/test_support.hpp"

namespace headscope {
void register_qk_ov_svd(AnalysisRegistry& registry);
}

using namespace headscope;
using namespace headscope::test;

namespace {

Result run_qk_ov(HookedTransformer& model, const Tokenizer& tok, std::map<std::string, std::string> params) {
    AnalysisRegistry registry;
    register_qk_ov_svd(registry);
    Progress progress;
    Result r = run_analysis(registry, {"qk_ov_svd", std::move(params)}, model, tok, {}, progress);
    INFO(r.error);
    REQUIRE(r.error.empty());
    return r;
}

// Every value of a [L*H, dh] Matrix against the reference's first dh singular values per head,
// relative to each value (plus a floor of 1e-7 of the head's largest).
void check_singular_values(const Matrix& m, const nlohmann::json& ref, int d_head) {
    REQUIRE(m.rows == static_cast<int>(ref.size()));
    REQUIRE(m.cols == d_head);
    for (int h = 0; h < m.rows; ++h) {
        const double top = ref[static_cast<size_t>(h)][0].get<double>();
        for (int i = 0; i < d_head; ++i) {
            const double want = ref[static_cast<size_t>(h)][static_cast<size_t>(i)].get<double>();
            const double got = m.values[static_cast<size_t>(h * d_head + i)];
            INFO(m.key << " head " << h << " value " << i << ": " << got << " vs dense " << want);
            CHECK(std::abs(got - want) <= 1e-4 * want + 1e-7 * top);
        }
    }
}

double effective_rank(const nlohmann::json& values, int n) {
    double total = 0, entropy = 0;
    for (int i = 0; i < n; ++i) total += values[static_cast<size_t>(i)].get<double>();
    for (int i = 0; i < n; ++i) {
        const double p = values[static_cast<size_t>(i)].get<double>() / total;
        if (p > 0) entropy -= p * std::log(p);
    }
    return std::exp(entropy);
}

void check_against_reference(HookedTransformer& model, const Tokenizer& tok, const std::string& path, bool fold) {
    const Result r = run_qk_ov(model, tok, {{"fold_norm_weights", fold ? "true" : "false"}});
    std::vector<std::string> args{"circuits", path};
    if (fold) args.push_back("--fold");
    const nlohmann::json ref = nlohmann::json::parse(run_reference("analysis_reference_a.py", args));
    const ModelConfig& c = model.config();
    REQUIRE(ref.at("layers").get<int>() == c.n_layers);
    REQUIRE(ref.at("heads").get<int>() == c.n_heads);
    check_singular_values(item<Matrix>(r, "qk_singular_values"), ref.at("qk_sv"), c.d_head);
    check_singular_values(item<Matrix>(r, "ov_singular_values"), ref.at("ov_sv"), c.d_head);

    const HeadGrid& copying = item<HeadGrid>(r, "ov_copying_score");
    const HeadGrid& qk_rank = item<HeadGrid>(r, "qk_effective_rank");
    const HeadGrid& ov_rank = item<HeadGrid>(r, "ov_effective_rank");
    const HeadGrid& qk_norm = item<HeadGrid>(r, "qk_norm");
    const HeadGrid& ov_norm = item<HeadGrid>(r, "ov_norm");
    CHECK(copying.scale == Scale::diverging);
    for (int i = 0; i < c.n_layers * c.n_heads; ++i) {
        const auto k = static_cast<size_t>(i);
        INFO("head index " << i);
        CHECK(copying.values[k] == Approx(ref["copying"][k].get<double>()).margin(1e-4));
        CHECK(qk_norm.values[k] == Approx(ref["qk_fro"][k].get<double>()).epsilon(1e-6));
        CHECK(ov_norm.values[k] == Approx(ref["ov_fro"][k].get<double>()).epsilon(1e-6));
        CHECK(qk_rank.values[k] == Approx(effective_rank(ref["qk_sv"][k], c.d_head)).epsilon(1e-6));
        CHECK(ov_rank.values[k] == Approx(effective_rank(ref["ov_sv"][k], c.d_head)).epsilon(1e-6));
    }
    // Per-head spectra for the circuit view.
    const Spectrum& s = item<Spectrum>(r, "spectrum_L0H1");
    REQUIRE(s.series.size() == 2);
    CHECK(s.series_names == std::vector<std::string>{"QK", "OV"});
    CHECK(s.series[0].size() == static_cast<size_t>(c.d_head));
    CHECK(s.series[0][0] == Approx(ref["qk_sv"][1][0].get<double>()).epsilon(1e-6));
    CHECK(r.find(fmt::format("spectrum_L{}H{}", c.n_layers - 1, c.n_heads - 1)) != nullptr);
    // The direction tables: top_k rows per head.
    CHECK(item<Table>(r, "ov_directions").rows.size() == static_cast<size_t>(c.n_layers * c.n_heads * 3));
    CHECK(item<Table>(r, "qk_directions").rows.size() == static_cast<size_t>(c.n_layers * c.n_heads * 3));
    CHECK(r.summary.size() == 3);
}

}  // namespace

TEST_CASE("qk_ov_svd equals dense SVD and eigenvalues on stories260K (GQA)", "[qk_ov_svd][reference][stories]") {
    LoadedModel m = load_model(stories_bin());
    REQUIRE(m.model->config().n_kv_heads < m.model->config().n_heads);
    SECTION("raw weights") { check_against_reference(*m.model, *m.tokenizer, stories_bin(), false); }
    SECTION("norm weights folded") { check_against_reference(*m.model, *m.tokenizer, stories_bin(), true); }
}

TEST_CASE("qk_ov_svd equals dense SVD and eigenvalues on random HF checkpoints", "[qk_ov_svd][reference][hf]") {
    TempDir tmp;
    SECTION("GPT-2 shaped") {
        const std::string dir = tmp.file("gpt2");
        run_reference("hf_reference.py", {"write", "gpt2", dir, "--seed", "7"});
        LoadedModel m = load_model(dir);
        check_against_reference(*m.model, *m.tokenizer, dir, true);
        check_against_reference(*m.model, *m.tokenizer, dir, false);
    }
    SECTION("Llama with GQA (8 query / 2 kv heads), HF rotary layout") {
        const std::string dir = tmp.file("llama");
        run_reference("hf_reference.py", {"write", "llama", dir, "--gqa", "--seed", "8"});
        LoadedModel m = load_model(dir);
        check_against_reference(*m.model, *m.tokenizer, dir, true);
    }
}

TEST_CASE("qk_ov_svd scores heads built to copy or to suppress", "[qk_ov_svd]") {
    torch::NoGradGuard no_grad;
    TempDir tmp;
    const std::string dir = tmp.file("gpt2");
    run_reference("hf_reference.py", {"write", "gpt2", dir, "--seed", "9"});
    LoadedModel m = load_model(dir);
    const ModelConfig& c = m.model->config();
    // GPT-2 ties W_U to W_E: with W_O = ±W_Vᵀ the head's W_E·OV·W_U = ±(W_E·W_V)(W_E·W_V)ᵀ is
    // positive (negative) semidefinite: copying score +1 (−1), and its top OV direction reads
    // and writes the same tokens (copying) or reads what it suppresses.
    ModelWeights w = m.model->weights();
    LayerWeights& L0 = w.layers[0];
    L0.W_V = L0.W_V.clone();
    L0.W_O = L0.W_O.clone();
    L0.W_O[0].copy_(L0.W_V[0].t());
    L0.W_O[1].copy_(-L0.W_V[1].t());
    REQUIRE(w.W_U.data_ptr() == w.W_E.data_ptr());
    m.model->set_weights(w);

    const Result r = run_qk_ov(*m.model, *m.tokenizer, {{"fold_norm_weights", "false"}, {"top_k", "1"}});
    const HeadGrid& copying = item<HeadGrid>(r, "ov_copying_score");
    CHECK(copying.at(0, 0) == Approx(1.0).margin(1e-6));
    CHECK(copying.at(0, 1) == Approx(-1.0).margin(1e-6));
    for (int i = 2; i < c.n_layers * c.n_heads; ++i) CHECK(std::abs(copying.values[static_cast<size_t>(i)]) < 0.999);
    CHECK_THAT(r.summary[0], Catch::StartsWith("highest OV copying score: L0H0 1.000"));

    const Table& ov = item<Table>(r, "ov_directions");
    REQUIRE(ov.columns == std::vector<std::string>{"head", "direction", "singular_value", "reads_from", "writes_to"});
    REQUIRE(ov.rows.size() == static_cast<size_t>(c.n_layers * c.n_heads));
    CHECK(std::get<std::string>(ov.rows[0][0]) == "L0H0");
    CHECK(std::get<int64_t>(ov.rows[0][1]) == 1);
    CHECK(std::get<std::string>(ov.rows[0][3]) == std::get<std::string>(ov.rows[0][4]));
    CHECK(std::get<std::string>(ov.rows[1][0]) == "L0H1");
    CHECK(std::get<std::string>(ov.rows[1][3]) != std::get<std::string>(ov.rows[1][4]));
    // The first token listed is the one with the largest W_E·u (sign fixed so that the strongest
    // projection is positive), computed plainly from the dense OV matrix here.
    const torch::Tensor ov_dense = torch::matmul(L0.W_V[0], L0.W_O[0]).to(torch::kDouble);
    const torch::Tensor u = std::get<0>(torch::linalg_svd(ov_dense, false)).select(1, 0);
    torch::Tensor proj = torch::matmul(w.W_E.to(torch::kDouble), u);
    if (proj[proj.abs().argmax()].item<double>() < 0) proj = -proj;
    const int64_t best = proj.argmax().item<int64_t>();
    const std::string text = m.tokenizer->token_text(static_cast<int32_t>(best));
    bool printable = !text.empty();
    for (char ch : text) printable = printable && ch >= 0x20 && ch < 0x7f;
    if (printable) CHECK_THAT(std::get<std::string>(ov.rows[0][3]), Catch::StartsWith("'" + text + "'"));
}
