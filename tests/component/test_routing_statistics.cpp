// expert_routing's arithmetic on routings whose statistics are known by construction.
#include <catch2/catch.hpp>

#include <cmath>
#include <stdexcept>

#include "expert_routing/routing_statistics.hpp"

using namespace headscope::expert_routing;

TEST_CASE("routing statistics: planted routing", "[moe][expert_routing]") {
    // 4 experts, top-2, 4 tokens. Slot 0 always picks expert 0; slot 1 cycles 1, 2, 1, 3.
    LayerRouting r;
    r.n_experts = 4;
    r.top_k = 2;
    r.indices = {0, 1, 0, 2, 0, 1, 0, 3};
    r.weights = {0.75f, 0.25f, 0.5f, 0.5f, 0.9f, 0.1f, 0.6f, 0.4f};
    r.expert_out_norms = {1, 2, 1, 4, 1, 2, 1, 10};
    r.router_logits.assign(4 * 4, 0.f);  // uniform router: entropy ln 4 per token
    const LayerStatistics s = routing_statistics(r, 2);

    // Choices: expert 0 four times, 1 twice, 2 and 3 once each, of 8.
    CHECK(s.frequency == std::vector<double>{0.5, 0.25, 0.125, 0.125});
    CHECK(s.load_entropy == Approx(-(0.5 * std::log(0.5) + 0.25 * std::log(0.25) + 2 * 0.125 * std::log(0.125))));
    // Weights: 2.75, 0.35, 0.5, 0.4 of 4.
    REQUIRE(s.weight_share.size() == 4);
    CHECK(s.weight_share[0] == Approx(2.75 / 4));
    CHECK(s.weight_share[1] == Approx(0.35 / 4));
    CHECK(s.weight_share[3] == Approx(0.4 / 4));
    // Output: e0 0.75+0.5+0.9+0.6 = 2.75; e1 0.5+0.2 = 0.7; e2 2; e3 4 -> of 9.45.
    REQUIRE(s.output_share.size() == 4);
    CHECK(s.output_share[0] == Approx(2.75 / 9.45));
    CHECK(s.output_share[2] == Approx(2.0 / 9.45));
    CHECK(s.output_share[3] == Approx(4.0 / 9.45));
    CHECK(s.mean_entropy == Approx(std::log(4.0)));
    // Top tokens of expert 0 by weight: positions 2 (0.9) then 0 (0.75); kept to 2.
    REQUIRE(s.top_tokens[0].size() == 2);
    CHECK(s.top_tokens[0][0].position == 2);
    CHECK(s.top_tokens[0][1].position == 0);
    REQUIRE(s.top_tokens[1].size() == 2);
    CHECK(s.top_tokens[1][0].position == 0);
    CHECK(s.top_tokens[3][0].position == 3);
}

TEST_CASE("routing statistics: a confident router has low entropy; no norms, no output share", "[moe][expert_routing]") {
    LayerRouting r;
    r.n_experts = 3;
    r.top_k = 1;
    r.indices = {2, 2};
    r.weights = {1.f, 1.f};
    r.router_logits = {0.f, 0.f, 40.f, 0.f, 0.f, 40.f};
    const LayerStatistics s = routing_statistics(r, 5);
    CHECK(s.mean_entropy < 1e-12);
    CHECK(s.mean_entropy >= 0);
    CHECK(s.load_entropy == 0);
    CHECK(s.output_share.empty());
    CHECK(s.top_tokens[0].empty());
    CHECK(s.top_tokens[2].size() == 2);
}

TEST_CASE("routing statistics: inconsistent input is refused", "[moe][expert_routing]") {
    LayerRouting r;
    r.n_experts = 2;
    r.top_k = 1;
    r.indices = {0, 2};
    r.weights = {1.f, 1.f};
    CHECK_THROWS_WITH(routing_statistics(r, 1), Catch::Contains("expert index 2 at position 1 is outside 0..1"));
    r.indices = {0};
    CHECK_THROWS_AS(routing_statistics(r, 1), std::invalid_argument);
}
