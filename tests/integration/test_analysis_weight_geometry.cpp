// weight_geometry against a dense numpy computation (tests/reference/analysis_reference_papers.py
// geometry forms W_Q·W_Kᵀ and W_V·W_O itself), and on heads planted to be symmetric,
// antisymmetric or balanced.
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

void check_against_numpy(LoadedModel& m, const std::string& path, bool fold) {
    const Result r = run_builtin("weight_geometry", m, {}, {{"fold_norm_weights", fold ? "true" : "false"}});
    std::vector<std::string> args{"geometry", path};
    if (fold) args.push_back("--fold");
    const nlohmann::json ref = nlohmann::json::parse(run_reference("analysis_reference_papers.py", args));
    const ModelConfig& c = m.model->config();
    const HeadGrid& sym = grid(r, "qk_symmetry");
    const HeadGrid& nuc = grid(r, "ov_nuclear_norm");
    const HeadGrid& fac = grid(r, "ov_factored_norm");
    REQUIRE(sym.layers == c.n_layers);
    REQUIRE(sym.heads == c.n_heads);
    REQUIRE(ref.at("qk_symmetry").size() == sym.values.size());
    for (size_t i = 0; i < sym.values.size(); ++i) {
        INFO("head " << i);
        CHECK(sym.values[i] == Approx(ref["qk_symmetry"][i].get<double>()).margin(1e-6));
        CHECK(nuc.values[i] == Approx(ref["ov_nuclear"][i].get<double>()).epsilon(1e-6));
        CHECK(fac.values[i] == Approx(ref["ov_factored"][i].get<double>()).epsilon(1e-6));
        CHECK(nuc.values[i] <= fac.values[i] * (1 + 1e-9));
    }
}

}  // namespace

TEST_CASE("weight_geometry equals the dense numpy computation (GQA)", "[weight_geometry][reference]") {
    SECTION("tiny-world, norm weights folded") {
        LoadedModel m = load_model(tiny_world());
        REQUIRE(m.model->config().n_kv_heads < m.model->config().n_heads);
        check_against_numpy(m, tiny_world(), true);
    }
    SECTION("stories260K, raw weights") {
        LoadOptions o;
        o.tokenizer_path = stories_tokenizer();
        LoadedModel m = load_model(stories_bin(), o);
        check_against_numpy(m, stories_bin(), false);
    }
}

TEST_CASE("weight_geometry: planted symmetric, antisymmetric and balanced heads", "[weight_geometry]") {
    torch::NoGradGuard no_grad;
    torch::manual_seed(3);
    LoadedModel m = load_model(tiny_world());
    const ModelConfig& c = m.model->config();
    const int group = c.n_heads / c.n_kv_heads;
    REQUIRE(group == 2);
    REQUIRE(c.d_head % 2 == 0);
    ModelWeights w = m.model->weights();
    LayerWeights& L1 = w.layers[1];
    L1.W_K = L1.W_K.clone();
    L1.W_V = L1.W_V.clone();
    L1.W_O = L1.W_O.clone();
    // Head 0 (kv head 0): W_K = W_Q, so M = W_Q·W_Qᵀ is symmetric.
    L1.W_K[0].copy_(L1.W_Q[0]);
    // Head 2 (kv head 1): W_K = W_Q·J with J antisymmetric, so M = W_Q·Jᵀ·W_Qᵀ is antisymmetric.
    torch::Tensor J = torch::zeros({c.d_head, c.d_head});
    for (int i = 0; i < c.d_head; i += 2) {
        J[i][i + 1] = 1.0;
        J[i + 1][i] = -1.0;
    }
    L1.W_K[1].copy_(torch::matmul(L1.W_Q[2], J));
    // Head 4 (kv head 2): W_V = U·√Σ and W_O = √Σ·Vᵀ with orthonormal U, V: balanced factors.
    const torch::Tensor U = std::get<0>(torch::linalg_qr(torch::randn({c.d_model, c.d_head}, torch::kDouble)));
    const torch::Tensor V = std::get<0>(torch::linalg_qr(torch::randn({c.d_model, c.d_head}, torch::kDouble)));
    const torch::Tensor root = torch::linspace(0.5, 2.0, c.d_head, torch::kDouble).sqrt();
    L1.W_V[2].copy_(U * root);
    L1.W_O[4].copy_(root.unsqueeze(1) * V.t());
    m.model->set_weights(w);

    for (const char* fold : {"false", "true"}) {
        INFO("fold_norm_weights=" << fold);
        const Result r = run_builtin("weight_geometry", m, {}, {{"fold_norm_weights", fold}});
        const HeadGrid& sym = grid(r, "qk_symmetry");
        CHECK(sym.at(1, 0) == Approx(1.0).margin(1e-6));
        CHECK(sym.at(1, 2) == Approx(-1.0).margin(1e-6));
        // Head 1 shares kv head 0 with head 0 but has its own W_Q: not symmetric.
        CHECK(std::abs(sym.at(1, 1)) < 0.99);
        for (double v : sym.values) CHECK(std::abs(v) <= 1.0 + 1e-9);
        const HeadGrid& nuc = grid(r, "ov_nuclear_norm");
        const HeadGrid& fac = grid(r, "ov_factored_norm");
        for (size_t i = 0; i < nuc.values.size(); ++i) CHECK(nuc.values[i] <= fac.values[i] * (1 + 1e-9));
        if (std::string(fold) == "false") {
            const double sum = torch::linspace(0.5, 2.0, c.d_head, torch::kDouble).sum().item<double>();
            CHECK(nuc.at(1, 4) == Approx(sum).epsilon(1e-5));
            CHECK(fac.at(1, 4) == Approx(sum).epsilon(1e-5));
            CHECK(grid(r, "ov_norm_ratio").at(1, 4) == Approx(1.0).epsilon(1e-5));
            // Head 5 reads the same balanced W_V but writes with its own W_O: strictly below the bound.
            CHECK(nuc.at(1, 5) < fac.at(1, 5) * 0.999);
        }
        CHECK_THAT(r.summary[0], Catch::StartsWith("most symmetric QK: L1H0 1.000"));
        CHECK_THAT(r.summary[1], Catch::StartsWith("most antisymmetric QK: L1H2 -1.000"));
    }
}
