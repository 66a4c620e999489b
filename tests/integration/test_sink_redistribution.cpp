// drop_sink: α = 0 changes nothing, α = 1 leaves no attention on the sinks with rows still summing
// to 1, and every α matches an independent numpy computation (tests/reference/
// sink_redistribution_reference.py); in a real model the edit reaches the logits, and
// head_intervention mode=drop_sink drives it.
#include <torch/torch.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "headscope/error.hpp"
#include "headscope/model_loader.hpp"
#include "headscope/sink_redistribution.hpp"
#include "support/analysis_support.hpp"
#include "support/reference.hpp"
#include "support/test_support.hpp"

using namespace headscope;
using namespace headscope::test;

namespace {

// A causal softmax pattern [B, H, T, T] of random scores, float64; the first key made a strong sink.
torch::Tensor random_pattern(int64_t B, int64_t H, int64_t T, uint64_t seed) {
    torch::manual_seed(seed);
    torch::Tensor scores = torch::randn({B, H, T, T}, torch::kDouble);
    scores.select(3, 0).add_(2.0);
    const torch::Tensor mask = torch::ones({T, T}, torch::kBool).triu(1);
    return torch::softmax(scores.masked_fill(mask, -INFINITY), -1);
}

torch::Tensor apply(const NamedHook& hook, const torch::Tensor& pattern) {
    HookPoint point{HookKey{HookSite::attn_pattern, 1}, "blocks.1.attn.hook_pattern"};
    std::optional<at::Tensor> out = hook.fn(pattern, point);
    return out ? *out : pattern;
}

nlohmann::json nested(const torch::Tensor& t) {
    if (t.dim() == 0) return t.item<double>();
    nlohmann::json j = nlohmann::json::array();
    for (int64_t i = 0; i < t.size(0); ++i) j.push_back(nested(t[i]));
    return j;
}

torch::Tensor numpy_reference(const torch::Tensor& pattern, double alpha, const std::vector<int>& heads,
                              const std::vector<int64_t>& sinks) {
    TempDir tmp;
    write_file(tmp.file("in.json"),
               nlohmann::json{{"pattern", nested(pattern)}, {"alpha", alpha}, {"heads", heads}, {"sinks", sinks}}.dump());
    const std::string out = run_reference("sink_redistribution_reference.py", {tmp.file("in.json")});
    std::vector<double> flat;
    std::function<void(const nlohmann::json&)> walk = [&](const nlohmann::json& j) {
        if (j.is_array())
            for (const auto& e : j) walk(e);
        else
            flat.push_back(j.get<double>());
    };
    walk(nlohmann::json::parse(out).at("pattern"));
    return torch::tensor(flat, torch::kDouble).view(pattern.sizes());
}

}  // namespace

TEST_CASE("drop_sink: alpha 0 is the identity, alpha 1 empties the sinks, all alphas match numpy", "[drop_sink]") {
    const torch::Tensor P = random_pattern(2, 4, 7, 3);
    CHECK(torch::equal(apply(drop_sink_hook(1, {}, 0.0), P), P));

    const torch::Tensor all = apply(drop_sink_hook(1, {}, 1.0), P);
    // Queries after the first: nothing left on key 0, rows sum to 1, the masked keys stay 0.
    CHECK(all.narrow(2, 1, 6).select(3, 0).abs().max().item<double>() == 0.0);
    CHECK((all.sum(-1) - 1.0).abs().max().item<double>() < 1e-12);
    CHECK(all.masked_select(torch::ones({7, 7}, torch::kBool).triu(1)).abs().max().item<double>() == 0.0);
    // Query 0 sees only the sink: unchanged.
    CHECK(torch::equal(all.select(2, 0), P.select(2, 0)));

    struct Case {
        double alpha;
        std::vector<int> heads;
        std::vector<int64_t> sinks;
    };
    for (const Case& c : {Case{1.0, {}, {0}}, Case{0.5, {1, 3}, {0}}, Case{0.25, {2}, {0, 3}}, Case{1.0, {0}, {0, -2}}}) {
        INFO("alpha " << c.alpha << ", " << c.heads.size() << " heads, " << c.sinks.size() << " sinks");
        const torch::Tensor mine = apply(drop_sink_hook(1, c.heads, c.alpha, c.sinks), P);
        const torch::Tensor ref = numpy_reference(P, c.alpha, c.heads, c.sinks);
        CHECK((mine - ref).abs().max().item<double>() < 1e-12);
    }
}

TEST_CASE("drop_sink: bad arguments are refused with a message", "[drop_sink]") {
    CHECK_THROWS_AS(drop_sink_hook(0, {}, 1.5), UsageError);
    CHECK_THROWS_AS(drop_sink_hook(0, {}, -0.1), UsageError);
    CHECK_THROWS_AS(drop_sink_hook(-1, {}, 0.5), UsageError);
    CHECK_THROWS_AS(drop_sink_hook(0, {-2}, 0.5), UsageError);
    const torch::Tensor P = random_pattern(1, 2, 4, 1);
    CHECK_THROWS_WITH(apply(drop_sink_hook(1, {5}, 0.5), P), Catch::Contains("head 5 does not exist"));
    CHECK_THROWS_WITH(apply(drop_sink_hook(1, {}, 0.5, {9}), P), Catch::Contains("sink position 9"));
}

TEST_CASE("drop_sink in tiny-world: the edited pattern has no sink attention and head_intervention reports it",
          "[drop_sink][head_intervention]") {
    LoadedModel m = load_model(source_dir() + "/data/models/tiny-world");
    const std::vector<int32_t> ids = m.tokenizer->encode("When Mary and John went to the store, John gave a drink to", true).ids;
    const torch::Tensor tokens = torch::tensor(std::vector<int64_t>(ids.begin(), ids.end()), torch::kLong).unsqueeze(0);
    const torch::Tensor clean = m.model->forward(tokens);
    CHECK(torch::equal(m.model->run_with_hooks(tokens, {drop_sink_hook(1, {}, 0.0)}), clean));

    torch::Tensor seen;
    {
        HookHandle edit = m.model->add_hook("blocks.1.attn.hook_pattern", drop_sink_hook(1, {0, 5}, 1.0).fn);
        HookHandle record = m.model->add_hook("blocks.1.attn.hook_pattern",
                                              [&](const at::Tensor& p, const HookPoint&) -> std::optional<at::Tensor> {
                                                  seen = p.detach().clone();
                                                  return std::nullopt;
                                              });
        const torch::Tensor edited = m.model->forward(tokens);
        CHECK((edited - clean).abs().max().item<double>() > 1e-4);
    }
    REQUIRE(seen.defined());
    for (int h : {0, 5}) {
        const torch::Tensor rows = seen[0][h].narrow(0, 1, seen.size(2) - 1);
        CHECK(rows.select(1, 0).abs().max().item<double>() == 0.0);
        CHECK((rows.sum(-1) - 1.0).abs().max().item<double>() < 1e-5);
    }

    std::vector<TokenizedPrompt> prompts = tokenize_prompts(*m.tokenizer, {{"ioi", "When Mary and John went to the store, John gave a drink to", " Mary", " John", ""}});
    const Result none = run_builtin("head_intervention", m, prompts, {{"heads", "L1H0,L1H5"}, {"mode", "drop_sink"}, {"alpha", "0"}});
    // The "after" column of the KL(before || after) row of the averages table.
    auto kl_after = [](const Result& r) {
        for (const auto& row : table(r, "averages").rows)
            if (std::get<std::string>(row[0]) == "KL(before || after)") return std::get<double>(row[2]);
        FAIL("no KL row in the averages table");
        return 0.0;
    };
    CHECK(kl_after(none) == Approx(0.0).margin(1e-12));
    const Result full = run_builtin("head_intervention", m, prompts, {{"heads", "L1H0,L1H5"}, {"mode", "drop_sink"}, {"alpha", "1"}});
    CHECK(kl_after(full) > 0.0);
    CHECK(grid(full, "head_factor").at(1, 5) == 1.0);
    CHECK(grid(full, "head_factor").at(0, 0) == 0.0);
}
