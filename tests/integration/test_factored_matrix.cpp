// FactoredMatrix against dense LibTorch linear algebra on the explicit product (the thing the
// class avoids forming), and the GQA circuit constructors against the checkpoint's weights.
#include <torch/torch.h>

#include <catch2/catch.hpp>

#include "headscope/error.hpp"
#include "headscope/factored_matrix.hpp"
#include "headscope/model_loader.hpp"
#include "support/test_support.hpp"

using namespace headscope;

namespace {

double max_rel(const torch::Tensor& a, const torch::Tensor& b) {
    return ((a - b).abs().max() / b.abs().max().clamp_min(1e-300)).item<double>();
}

// Eigenvalues sorted by decreasing magnitude, first n.
torch::Tensor by_magnitude(const torch::Tensor& ev, int64_t n) {
    const torch::Tensor order = ev.abs().argsort(-1, /*descending=*/true).narrow(-1, 0, n);
    return ev.gather(-1, order);
}

}  // namespace

TEST_CASE("FactoredMatrix SVD, norm and singular values equal dense linear algebra", "[factored]") {
    torch::manual_seed(11);
    const torch::Tensor A = torch::randn({3, 40, 6}, torch::kDouble);
    const torch::Tensor B = torch::randn({3, 6, 30}, torch::kDouble);
    const FactoredMatrix f(A, B);
    const torch::Tensor dense = torch::matmul(A, B);
    CHECK(f.rows() == 40);
    CHECK(f.cols() == 30);
    CHECK(f.inner() == 6);
    CHECK(f.batch_shape() == std::vector<int64_t>{3});

    const FactoredSvd s = f.svd();
    REQUIRE(s.U.sizes() == torch::IntArrayRef({3, 40, 6}));
    REQUIRE(s.S.sizes() == torch::IntArrayRef({3, 6}));
    REQUIRE(s.Vh.sizes() == torch::IntArrayRef({3, 6, 30}));
    const torch::Tensor dense_sv = torch::linalg_svdvals(dense).narrow(-1, 0, 6);
    CHECK(max_rel(s.S, dense_sv) < 1e-12);
    CHECK(max_rel(f.singular_values(), dense_sv) < 1e-12);
    CHECK(max_rel(torch::matmul(s.U * s.S.unsqueeze(-2), s.Vh), dense) < 1e-12);
    const torch::Tensor eye = torch::eye(6, torch::kDouble);
    CHECK((torch::matmul(s.U.transpose(-1, -2), s.U) - eye).abs().max().item<double>() < 1e-12);
    CHECK((torch::matmul(s.Vh, s.Vh.transpose(-1, -2)) - eye).abs().max().item<double>() < 1e-12);
    CHECK(max_rel(f.frobenius_norm(), torch::linalg_norm(dense, "fro", {-2, -1})) < 1e-12);
    CHECK(max_rel(f.dense(), dense) == 0.0);
}

TEST_CASE("FactoredMatrix broadcasts batch dimensions and handles a wide inner dimension", "[factored]") {
    torch::manual_seed(12);
    SECTION("one right factor shared by every left factor") {
        const torch::Tensor A = torch::randn({4, 20, 5}, torch::kDouble), B = torch::randn({5, 25}, torch::kDouble);
        const FactoredMatrix f(A, B);
        CHECK(f.batch_shape() == std::vector<int64_t>{4});
        CHECK(max_rel(f.singular_values(), torch::linalg_svdvals(torch::matmul(A, B)).narrow(-1, 0, 5)) < 1e-12);
        CHECK(max_rel(f[2].dense(), torch::matmul(A[2], B)) == 0.0);
        CHECK_THROWS_AS(f[4], UsageError);
    }
    SECTION("inner dimension larger than the matrix (k > m, n)") {
        const torch::Tensor A = torch::randn({7, 12}, torch::kDouble), B = torch::randn({12, 9}, torch::kDouble);
        const FactoredMatrix f(A, B);
        const FactoredSvd s = f.svd();
        CHECK(s.S.size(0) == 7);
        CHECK(max_rel(s.S, torch::linalg_svdvals(torch::matmul(A, B))) < 1e-12);
        CHECK(max_rel(torch::matmul(s.U * s.S.unsqueeze(-2), s.Vh), torch::matmul(A, B)) < 1e-12);
    }
    SECTION("a rank-deficient product") {
        torch::Tensor A = torch::randn({30, 4}, torch::kDouble);
        A.select(1, 3).copy_(A.select(1, 0) * 2);  // rank 3
        const FactoredMatrix f(A, torch::randn({4, 30}, torch::kDouble));
        const torch::Tensor s = f.singular_values();
        CHECK(max_rel(s, torch::linalg_svdvals(f.dense()).narrow(0, 0, 4)) < 1e-10);
        CHECK(s[3].item<double>() < 1e-10 * s[0].item<double>());
    }
}

TEST_CASE("FactoredMatrix products and transpose stay factored and equal the dense products", "[factored]") {
    torch::manual_seed(13);
    const torch::Tensor A = torch::randn({2, 16, 3}, torch::kDouble), B = torch::randn({2, 3, 16}, torch::kDouble);
    const torch::Tensor C = torch::randn({2, 16, 5}, torch::kDouble), D = torch::randn({2, 5, 8}, torch::kDouble);
    const FactoredMatrix x(A, B), y(C, D);
    const torch::Tensor M = torch::randn({16, 7}, torch::kDouble), N = torch::randn({9, 16}, torch::kDouble);

    const FactoredMatrix xy = x.matmul(y);
    CHECK(xy.inner() == 3);  // the smaller inner dimension is kept
    CHECK(max_rel(xy.dense(), torch::matmul(torch::matmul(A, B), torch::matmul(C, D))) < 1e-12);
    const FactoredMatrix yx = y.transpose().matmul(FactoredMatrix(C, D));  // [8,16]·[16,8]
    CHECK(yx.inner() == 5);
    CHECK(max_rel(x.transpose().dense(), torch::matmul(A, B).transpose(-1, -2)) == 0.0);
    CHECK(max_rel(x.matmul(M).dense(), torch::matmul(torch::matmul(A, B), M)) < 1e-12);
    CHECK(max_rel(x.rmatmul(N).dense(), torch::matmul(N, torch::matmul(A, B))) < 1e-12);
    CHECK(x.matmul(M).inner() == 3);
    CHECK_THROWS_AS(x.matmul(N), UsageError);
    CHECK_THROWS_AS(y.matmul(y), UsageError);
}

TEST_CASE("FactoredMatrix eigenvalues equal the dense eigenvalues", "[factored]") {
    torch::manual_seed(14);
    const torch::Tensor A = torch::randn({3, 24, 4}, torch::kDouble), B = torch::randn({3, 4, 24}, torch::kDouble);
    const FactoredMatrix f(A, B);
    const torch::Tensor ev = f.eigenvalues();
    REQUIRE(ev.sizes() == torch::IntArrayRef({3, 4}));
    const torch::Tensor dense_ev = by_magnitude(torch::linalg_eigvals(f.dense()), 4);
    // Compare as sorted multisets (order of equal-magnitude conjugate pairs aside).
    CHECK(max_rel(std::get<0>(torch::sort(torch::real(by_magnitude(ev, 4)), -1)),
                  std::get<0>(torch::sort(torch::real(dense_ev), -1))) < 1e-9);
    CHECK(max_rel(std::get<0>(torch::sort(torch::imag(by_magnitude(ev, 4)).abs(), -1)),
                  std::get<0>(torch::sort(torch::imag(dense_ev).abs(), -1))) < 1e-8);
    CHECK(max_rel(torch::real(ev).sum(-1), torch::real(torch::linalg_eigvals(f.dense())).sum(-1)) < 1e-9);

    // L·(A·B)·R through the small k×k matrix.
    const torch::Tensor Lm = torch::randn({50, 24}, torch::kDouble), R = torch::randn({24, 50}, torch::kDouble);
    const torch::Tensor sandwich = f.sandwiched_eigenvalues(torch::matmul(R, Lm));
    const torch::Tensor full = torch::linalg_eigvals(torch::matmul(torch::matmul(Lm, f.dense()), R));
    CHECK(max_rel(torch::real(sandwich).sum(-1), torch::real(full).sum(-1)) < 1e-9);
    CHECK(max_rel(sandwich.abs().sum(-1), by_magnitude(full, 4).abs().sum(-1)) < 1e-9);

    CHECK_THROWS_AS(FactoredMatrix(torch::randn({5, 2}), torch::randn({2, 6})).eigenvalues(), UsageError);
    CHECK_THROWS_AS(f.sandwiched_eigenvalues(torch::randn({24, 23}, torch::kDouble)), UsageError);
}

TEST_CASE("pairwise_product_norms equals the norms of the dense products", "[factored]") {
    torch::manual_seed(15);
    const FactoredMatrix x(torch::randn({5, 32, 4}, torch::kDouble), torch::randn({5, 4, 32}, torch::kDouble));
    const FactoredMatrix y(torch::randn({3, 32, 6}, torch::kDouble), torch::randn({3, 6, 20}, torch::kDouble));
    const torch::Tensor got = pairwise_product_norms(x, y);
    REQUIRE(got.sizes() == torch::IntArrayRef({5, 3}));
    for (int a = 0; a < 5; ++a)
        for (int b = 0; b < 3; ++b) {
            const double want = torch::linalg_norm(torch::matmul(x[a].dense(), y[b].dense()), "fro").item<double>();
            CHECK(got[a][b].item<double>() == Approx(want).epsilon(1e-12));
        }
    CHECK_THROWS_AS(pairwise_product_norms(y, x), UsageError);
}

TEST_CASE("FactoredMatrix rejects malformed factors", "[factored]") {
    CHECK_THROWS_AS(FactoredMatrix(torch::randn({4, 3}), torch::randn({4, 3})), UsageError);
    CHECK_THROWS_AS(FactoredMatrix(torch::randn({4}), torch::randn({4, 3})), UsageError);
    CHECK_THROWS_AS(FactoredMatrix(torch::randn({2, 4, 3}), torch::randn({3, 3, 5})), UsageError);
    CHECK_THROWS_AS(FactoredMatrix(torch::randn({4, 3}), torch::randn({3, 5}, torch::kDouble)), UsageError);
    CHECK_THROWS_AS(FactoredMatrix(torch::Tensor(), torch::randn({3, 5})), UsageError);
    CHECK_THROWS_AS(FactoredMatrix(torch::ones({4, 3}, torch::kLong), torch::ones({3, 5}, torch::kLong)), UsageError);
    CHECK_THROWS_WITH(FactoredMatrix(torch::randn({4, 3}), torch::randn({4, 3})),
                      Catch::Contains("inner dimensions differ") && Catch::Contains("[4, 3]"));
}

TEST_CASE("QK and OV circuits of a GQA model pair each query head with its kv head", "[factored][stories]") {
    torch::NoGradGuard no_grad;
    LoadedModel m = load_model(headscope::test::stories_bin());
    const ModelConfig& c = m.model->config();
    REQUIRE(c.n_heads == 8);
    REQUIRE(c.n_kv_heads == 4);
    for (int layer : {0, c.n_layers - 1}) {
        const LayerWeights& w = m.model->weights().layers[static_cast<size_t>(layer)];
        const FactoredMatrix qk = qk_circuit(*m.model, layer), ov = ov_circuit(*m.model, layer);
        CHECK(qk.batch_shape() == std::vector<int64_t>{8});
        CHECK(qk.rows() == c.d_model);
        CHECK(qk.inner() == c.d_head);
        for (int h = 0; h < c.n_heads; ++h) {
            const int kv = h / 2;
            CHECK(max_rel(qk[h].dense(), torch::matmul(w.W_Q[h], w.W_K[kv].t())) < 1e-6);
            CHECK(max_rel(ov[h].dense(), torch::matmul(w.W_V[kv], w.W_O[h])) < 1e-6);
        }
        // Folding scales the d_model side by ln1's weight.
        const FactoredMatrix folded = qk_circuit(*m.model, layer, CircuitOptions{true});
        const torch::Tensor s = w.ln1_w;
        CHECK(max_rel(folded[3].dense(), s.unsqueeze(1) * torch::matmul(w.W_Q[3], w.W_K[1].t()) * s.unsqueeze(0)) <
              1e-6);
    }
    CHECK_THROWS_AS(qk_circuit(*m.model, c.n_layers), UsageError);
    CHECK_THROWS_AS(ov_circuit(*m.model, -1), UsageError);
}
