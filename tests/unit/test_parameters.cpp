// Typed analysis parameters: defaults, overrides, validation.
#include <catch2/catch.hpp>

#include "headscope/error.hpp"
#include "headscope/sdk/parameters.hpp"

using namespace headscope;

TEST_CASE("parameters fill defaults and validate overrides", "[parameters]") {
    std::vector<ParamSpec> specs{
        {"top_k", ParamType::integer, "5", "how many", {}, 1, 100},
        {"scale", ParamType::real, "0.5", "factor", {}, 0, 2},
        {"metric", ParamType::choice, "logit_diff", "metric", {"logit_diff", "loss"}},
        {"heads", ParamType::heads, "", "heads"},
        {"verbose", ParamType::boolean, "false", "talk"},
    };
    ParamValues defaults("demo", specs);
    CHECK(defaults.get_int("top_k") == 5);
    CHECK(defaults.get_real("scale") == 0.5);
    CHECK(defaults.get_heads("heads").empty());
    CHECK_FALSE(defaults.get_bool("verbose"));
    ParamValues set("demo", specs, {{"heads", "1.4, 2.0"}, {"metric", "loss"}, {"scale", "2"}});
    CHECK(set.get_heads("heads") == std::vector<HeadRef>{{1, 4}, {2, 0}});
    CHECK(set.get_text("metric") == "loss");
    CHECK_THROWS_WITH(ParamValues("demo", specs, {{"nope", "1"}}), Catch::Contains("no parameter 'nope'") && Catch::Contains("top_k"));
    CHECK_THROWS_WITH(ParamValues("demo", specs, {{"top_k", "x"}}), Catch::Contains("demo.top_k"));
    CHECK_THROWS_WITH(ParamValues("demo", specs, {{"top_k", "0"}}), Catch::Contains("[1, 100]"));
    CHECK_THROWS_WITH(ParamValues("demo", specs, {{"scale", "2.5"}}), Catch::Contains("demo.scale"));
    CHECK_THROWS_WITH(ParamValues("demo", specs, {{"metric", "acc"}}), Catch::Contains("logit_diff, loss"));
    CHECK_THROWS_WITH(ParamValues("demo", specs, {{"heads", "1-4"}}), Catch::Contains("L<layer>H<head>"));
    CHECK_THROWS_AS(ParamValues("demo", specs, {{"heads", "1.4,,2.0"}}), UsageError);
}
