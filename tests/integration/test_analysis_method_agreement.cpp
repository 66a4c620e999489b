// method_agreement against an independent numpy computation of Spearman, Kendall τ-b and top-k
// overlap (tests/reference/analysis_reference_papers.py agreement), on grids planted to agree,
// disagree and tie; a grid agrees with itself exactly.
#include <torch/torch.h>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>

#include "headscope/model_loader.hpp"
#include "headscope/sdk/result_helpers.hpp"
#include "headscope/sdk/result_store.hpp"
#include "support/analysis_support.hpp"
#include "support/reference.hpp"
#include "support/test_support.hpp"

using namespace headscope;
using namespace headscope::test;

namespace {

std::string tiny_world() { return source_dir() + "/data/models/tiny-world"; }

Result run_agreement(LoadedModel& m, std::map<std::string, std::string> params) {
    Progress quiet;
    return run_analysis(builtin_registry(), {"method_agreement", std::move(params)}, *m.model, *m.tokenizer, {}, quiet);
}

}  // namespace

TEST_CASE("method_agreement equals numpy on planted grids from a results file", "[method_agreement][reference]") {
    TempDir tmp;
    const int L = 4, H = 8, n = L * H;
    torch::manual_seed(5);
    const torch::Tensor base = torch::randn({n}, torch::kDouble);
    std::vector<double> a(base.data_ptr<double>(), base.data_ptr<double>() + n);
    std::vector<double> reversed(a), noisy(a), tied(a), constant(static_cast<size_t>(n), 0.25);
    for (auto& v : reversed) v = -v;
    const torch::Tensor noise = torch::randn({n}, torch::kDouble);
    for (int i = 0; i < n; ++i) noisy[static_cast<size_t>(i)] += 0.7 * noise[i].item<double>();
    for (auto& v : tied) v = std::round(v * 2) / 2;  // many ties
    Result one, two;
    one.analysis_id = "first";
    one.items.push_back(make_head_grid("a", "a", "", L, H, a));
    one.items.push_back(make_head_grid("reversed", "r", "", L, H, reversed));
    one.items.push_back(make_head_grid("constant", "c", "", L, H, constant));
    two.analysis_id = "second";
    two.items.push_back(make_head_grid("noisy", "n", "", L, H, noisy));
    two.items.push_back(make_head_grid("tied", "t", "", L, H, tied));
    two.items.push_back(make_head_grid("a_again", "a", "", L, H, a));
    two.items.push_back(make_head_grid("other_shape", "o", "", 2, 3, std::vector<double>(6, 1.0)));
    const std::string file = tmp.file("results.h5");
    write_results_file(file, ResultsFile{{}, {one, two}});

    LoadedModel m = load_model(tiny_world());
    const Result r = run_agreement(m, {{"results_file", file}, {"top_k", "6"}});
    INFO(r.error);
    REQUIRE(r.error.empty());
    const Matrix& rho = matrix(r, "spearman");
    const Matrix& tau = matrix(r, "kendall");
    const Matrix& overlap = matrix(r, "top_k_overlap");
    const std::vector<std::string> names{"first.a", "first.reversed", "second.noisy", "second.tied", "second.a_again"};
    REQUIRE(rho.row_labels == names);
    REQUIRE(rho.rows == 5);
    const size_t G = names.size();
    // Planted: a grid with itself (and with its copy) is 1; reversed is −1 and shares no top head.
    for (size_t i = 0; i < G; ++i) {
        CHECK(rho.values[i * G + i] == Approx(1.0).margin(1e-12));
        CHECK(tau.values[i * G + i] == Approx(1.0).margin(1e-12));
        CHECK(overlap.values[i * G + i] == 1.0);
    }
    CHECK(rho.values[0 * G + 4] == Approx(1.0).margin(1e-12));
    CHECK(tau.values[0 * G + 4] == Approx(1.0).margin(1e-12));
    CHECK(rho.values[0 * G + 1] == Approx(-1.0).margin(1e-12));
    CHECK(tau.values[0 * G + 1] == Approx(-1.0).margin(1e-12));
    CHECK(overlap.values[0 * G + 1] == 0.0);
    // Everything against numpy.
    nlohmann::json grids = nlohmann::json::array({a, reversed, noisy, tied, a});
    write_file(tmp.file("grids.json"), grids.dump());
    const nlohmann::json ref =
        nlohmann::json::parse(run_reference("analysis_reference_papers.py", {"agreement", tmp.file("grids.json"), "6"}));
    for (size_t i = 0; i < G; ++i)
        for (size_t j = 0; j < G; ++j) {
            INFO(names[i] << " ~ " << names[j]);
            CHECK(rho.values[i * G + j] == Approx(ref["spearman"][i][j].get<double>()).margin(1e-12));
            CHECK(tau.values[i * G + j] == Approx(ref["kendall"][i][j].get<double>()).margin(1e-12));
            CHECK(overlap.values[i * G + j] == Approx(ref["overlap"][i][j].get<double>()).margin(1e-12));
        }
    const Table& pairs = table(r, "pairs");
    CHECK(pairs.rows.size() == G * (G - 1) / 2);
    bool noted_constant = false, noted_shape = false;
    for (const auto& line : r.summary) {
        noted_constant = noted_constant || line == "first.constant left out: constant";
        noted_shape = noted_shape || line.find("second.other_shape left out") == 0;
    }
    CHECK(noted_constant);
    CHECK(noted_shape);

    SECTION("magnitude ranks by |score|: a and its negation then agree") {
        const Result mr = run_agreement(m, {{"results_file", file}, {"magnitude", "true"}});
        REQUIRE(mr.error.empty());
        CHECK(matrix(mr, "spearman").values[0 * G + 1] == Approx(1.0).margin(1e-12));
    }
}

TEST_CASE("method_agreement runs weight analyses inline and reports bad input", "[method_agreement]") {
    LoadedModel m = load_model(tiny_world());
    const Result r = run_agreement(m, {{"analyses", "qk_ov_svd,weight_geometry,head_usage"}});
    INFO(r.error);
    REQUIRE(r.error.empty());
    const Matrix& rho = matrix(r, "spearman");
    REQUIRE(rho.rows >= 8);  // qk_ov_svd's five grids, weight_geometry's four
    for (int i = 0; i < rho.rows; ++i) CHECK(rho.values[static_cast<size_t>(i * rho.cols + i)] == Approx(1.0).margin(1e-12));
    bool skipped = false;
    for (const auto& line : r.summary) skipped = skipped || line == "head_usage skipped: it needs prompts";
    INFO("summary: " << fmt::format("{}", fmt::join(r.summary, " | ")));
    CHECK(skipped);

    CHECK_THAT(run_agreement(m, {{"analyses", "no_such_analysis"}}).error, Catch::Contains("unknown analysis 'no_such_analysis'"));
    CHECK_THAT(run_agreement(m, {{"analyses", "method_agreement"}}).error, Catch::Contains("cannot run itself"));
    TempDir tmp;
    CHECK_THAT(run_agreement(m, {{"results_file", tmp.file("missing.h5")}}).error, Catch::Contains("missing.h5"));
    Result only;
    only.analysis_id = "only";
    only.items.push_back(make_head_grid("g", "g", "", 1, 2, {1.0, 2.0}));
    write_results_file(tmp.file("one.h5"), ResultsFile{{}, {only}});
    CHECK_THAT(run_agreement(m, {{"results_file", tmp.file("one.h5")}}).error, Catch::Contains("at least 2 are needed"));
}
