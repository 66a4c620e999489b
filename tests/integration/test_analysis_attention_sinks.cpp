// attention_sinks: finds a sink a test plants (a hook rewriting patterns so a chosen non-BOS
// token takes most attention in chosen heads), reports none when none is planted, computes the
// first-token share as the independent reference does, and finds a planted massive activation.
#include <torch/torch.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <numeric>
#include <set>

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
    return run_builtin("attention_sinks", m, prompts, std::move(params));
}


LoadedModel stories() {
    LoadOptions o;
    o.tokenizer_path = stories_tokenizer();
    return load_model(stories_bin(), o);
}

constexpr int64_t kSink = 5;
const std::set<std::pair<int, int>> kPlanted{{2, 1}, {3, 5}};

// Uniform causal attention in every head; in the planted heads every query after kSink gives it
// 0.85 and spreads 0.15 evenly over its other keys.
HookFn rewrite_patterns(bool plant) {
    return [plant](const at::Tensor& pattern, const HookPoint& point) -> std::optional<at::Tensor> {
        const int64_t H = pattern.size(1), T = pattern.size(2);
        torch::Tensor causal = torch::ones({T, T}, torch::kDouble).tril();
        torch::Tensor uniform = causal / causal.sum(-1, true);
        torch::Tensor planted = uniform.clone();
        for (int64_t q = kSink + 1; q < T; ++q) {
            planted[q] = causal[q] * (0.15 / static_cast<double>(q));
            planted[q][kSink] = 0.85;
        }
        torch::Tensor out = uniform.expand({pattern.size(0), H, T, T}).clone();
        if (plant)
            for (int64_t h = 0; h < H; ++h)
                if (kPlanted.count({point.key.layer, static_cast<int>(h)})) out.select(1, h).copy_(planted);
        return out.to(pattern.scalar_type());
    };
}

std::vector<TokenizedPrompt> prompts_of(const LoadedModel& m) {
    std::vector<TokenizedPrompt> p = tokenize_prompts(
        *m.tokenizer, {{"", "Lily and Tom went to the park to play with a big red ball.", "", "", ""},
                       {"", "Once upon a time there was a little girl who liked to sing songs.", "", "", ""}});
    for (const auto& t : p) REQUIRE(static_cast<int64_t>(t.ids.size()) > kSink + 5);
    return p;
}

}  // namespace

TEST_CASE("attention_sinks finds a planted secondary sink in the planted heads only", "[attention_sinks]") {
    LoadedModel m = stories();
    std::vector<TokenizedPrompt> prompts = prompts_of(m);
    HookHandle plant = m.model->add_hook("blocks.*.attn.hook_pattern", rewrite_patterns(true));
    Result r = run(m, prompts);
    const Table& sinks = table(r, "sinks");
    size_t secondary = 0;
    for (const auto& row : sinks.rows) {
        if (std::get<std::string>(row[3]) != "secondary") continue;
        ++secondary;
        CHECK(std::get<int64_t>(row[1]) == kSink);
        CHECK(std::get<int64_t>(row[4]) == 2);  // two heads use it
        CHECK(std::get<double>(row[5]) == Approx(0.85).margin(1e-5));
        const std::string heads = std::get<std::string>(row[6]);
        CHECK(heads.find("L2H1") != std::string::npos);
        CHECK(heads.find("L3H5") != std::string::npos);
        const std::string token = std::get<std::string>(row[2]);
        const size_t prompt = static_cast<size_t>(std::get<int64_t>(row[0]));
        CHECK(token == prompts[prompt].token_texts[kSink]);
    }
    CHECK(secondary == prompts.size());  // one per prompt
    const HeadGrid* sec = r.head_grid("secondary_sink_share");
    REQUIRE(sec != nullptr);
    for (int l = 0; l < sec->layers; ++l)
        for (int h = 0; h < sec->heads; ++h)
            if (kPlanted.count({l, h}))
                CHECK(sec->at(l, h) == Approx(0.85).margin(1e-5));
            else
                CHECK(sec->at(l, h) < 0.3);
    // First-token share, from its definition (mean over queries q >= 1 of P[q, 0]).
    const HeadGrid* bos = r.head_grid("bos_sink_share");
    REQUIRE(bos != nullptr);
    double uniform_expected = 0, planted_expected = 0;
    for (const auto& p : prompts) {
        const int64_t T = static_cast<int64_t>(p.ids.size());
        double u = 0, pl = 0;
        for (int64_t q = 1; q < T; ++q) {
            u += 1.0 / static_cast<double>(q + 1);
            pl += q > kSink ? 0.15 / static_cast<double>(q) : 1.0 / static_cast<double>(q + 1);
        }
        uniform_expected += u / static_cast<double>(T - 1) / static_cast<double>(prompts.size());
        planted_expected += pl / static_cast<double>(T - 1) / static_cast<double>(prompts.size());
    }
    CHECK(bos->at(0, 0) == Approx(uniform_expected).margin(1e-5));
    CHECK(bos->at(2, 1) == Approx(planted_expected).margin(1e-5));
    // Attention received per token sums to 1.
    const ResultItem* item = r.find("attention_received_0");
    REQUIRE(item != nullptr);
    const auto& ts = std::get<TokenScores>(*item);
    CHECK(ts.tokens.size() == prompts[0].ids.size());
    CHECK(std::accumulate(ts.scores.begin(), ts.scores.end(), 0.0) == Approx(1.0).margin(1e-6));
    // The layer range excludes the planted layers: no secondary sink.
    HookHandle again = m.model->add_hook("blocks.*.attn.hook_pattern", rewrite_patterns(true));
    Result early = run(m, prompts, {{"layers", "0-1"}});
    for (const auto& row : table(early, "sinks").rows) CHECK(std::get<std::string>(row[3]) == "primary");
}

TEST_CASE("attention_sinks reports no secondary sink when none is planted", "[attention_sinks]") {
    LoadedModel m = stories();
    std::vector<TokenizedPrompt> prompts = prompts_of(m);
    HookHandle uniform = m.model->add_hook("blocks.*.attn.hook_pattern", rewrite_patterns(false));
    Result r = run(m, prompts);
    for (const auto& row : table(r, "sinks").rows) CHECK(std::get<std::string>(row[3]) == "primary");
    bool said = false;
    for (const auto& line : r.summary) said |= line.find("no secondary sinks") != std::string::npos;
    CHECK(said);
    for (double v : r.head_grid("secondary_sink_share")->values) CHECK(v == 0.0);
}

TEST_CASE("attention_sinks first-token share equals the independent reference", "[attention_sinks][reference]") {
    TempDir tmp;
    const std::string dir = tmp.file("gpt2");
    run_reference("hf_reference.py", {"write", "gpt2", dir, "--seed", "21"});
    LoadedModel m = load_model(dir);
    std::vector<TokenizedPrompt> prompts = tokenize_prompts(*m.tokenizer, {{"", "Sinks sink; sinks stink.", "", "", ""}});
    Result r = run(m, prompts);
    auto ref = nlohmann::json::parse(run_reference("analysis_reference_b.py", {"sinks", dir, ids_json(prompts[0].ids)}));
    const HeadGrid* bos = r.head_grid("bos_sink_share");
    REQUIRE(bos != nullptr);
    for (int l = 0; l < bos->layers; ++l)
        for (int h = 0; h < bos->heads; ++h)
            CHECK(bos->at(l, h) ==
                  Approx(ref.at("bos_share")[static_cast<size_t>(l)][static_cast<size_t>(h)].get<double>()).margin(1e-5));
}

TEST_CASE("attention_sinks reports a planted massive activation on the sink token", "[attention_sinks]") {
    LoadedModel m = stories();
    std::vector<TokenizedPrompt> prompts = prompts_of(m);
    prompts.resize(1);
    const std::string resid = hook_name("resid_post", 1);
    HookFn bump = [](const at::Tensor& x, const HookPoint&) -> std::optional<at::Tensor> {
        torch::Tensor out = x.clone();
        out[0][0][7] += 300.0;
        return out;
    };
    torch::Tensor cached;
    {
        torch::NoGradGuard no_grad;
        torch::Tensor toks = torch::tensor(std::vector<int64_t>(prompts[0].ids.begin(), prompts[0].ids.end())).unsqueeze(0);
        cached = m.model->run_with_cache(toks, {resid}, {{resid, bump}}).cache.at(resid)[0].to(torch::kDouble);
    }
    const double median = cached.abs().flatten().median().item<double>();
    HookHandle plant = m.model->add_hook(resid, bump);
    Result r = run(m, prompts);
    bool found = false;
    for (const auto& row : table(r, "massive_activations").rows) {
        if (std::get<int64_t>(row[0]) != 1 || std::get<int64_t>(row[2]) != 0 || std::get<int64_t>(row[4]) != 7) continue;
        found = true;
        CHECK(std::get<double>(row[5]) == Approx(cached[0][7].item<double>()).margin(1e-3));
        CHECK(std::get<double>(row[6]) == Approx(std::abs(cached[0][7].item<double>()) / median).epsilon(1e-6));
    }
    CHECK(found);
}

TEST_CASE("attention_sinks refuses a bad layer range", "[attention_sinks]") {
    LoadedModel m = stories();
    std::vector<TokenizedPrompt> prompts = prompts_of(m);
    Progress quiet;
    for (const char* bad : {"3-1", "0-9", "x", "1-2-3"}) {
        Result r = run_analysis(builtin_registry(), {"attention_sinks", {{"layers", bad}}}, *m.model, *m.tokenizer, prompts, quiet);
        CHECK(r.error.find("attention_sinks.layers") != std::string::npos);
    }
}

// stories260K's greedy story from BOS (the 44 tokens llama2c_reference.py's greedy decoding
// gives), 45 tokens with BOS. Heads attending to the last few tokens give keys 36, 39 and 40 a
// mean share above 0.3 from the handful of queries after them: recency, not sinks.
const std::vector<int32_t> kGreedyStory = {1,   403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317,
                                           426, 338, 401, 396, 267, 337, 410, 408, 419, 292, 411, 322, 265, 282, 295,
                                           433, 426, 385, 328, 432, 358, 394, 261, 370, 432, 352, 266, 268, 388, 426};

TEST_CASE("attention_sinks does not call recent tokens near the end of a prompt sinks", "[attention_sinks]") {
    LoadedModel m = stories();
    TokenizedPrompt p;
    p.ids = kGreedyStory;
    for (int32_t id : p.ids) p.token_texts.push_back(m.tokenizer->token_text(id));
    const std::vector<TokenizedPrompt> prompts{p};
    auto secondary_positions = [&](const Result& r) {
        std::set<int64_t> out;
        for (const auto& row : table(r, "sinks").rows)
            if (std::get<std::string>(row[3]) == "secondary") out.insert(std::get<int64_t>(row[1]));
        return out;
    };
    // Without the query-share rule, the recent tokens count as sinks ...
    const std::set<int64_t> recency = secondary_positions(run(m, prompts, {{"min_query_share", "0"}}));
    CHECK(recency.count(39) == 1);
    CHECK(recency.count(40) == 1);
    // ... by default a sink must be held by a quarter of the prompt's queries: none of them is.
    const Result r = run(m, prompts);
    for (int64_t pos : secondary_positions(r)) CHECK(pos < 34);  // at most 44 - 34 = 10 < 11 queries follow
    CHECK(secondary_positions(r).count(39) == 0);
    CHECK(secondary_positions(r).count(40) == 0);
    bool named = false;
    for (const auto& spec : builtin_registry().info("attention_sinks").parameters) named |= spec.name == "min_query_share";
    CHECK(named);
}

TEST_CASE("attention_sinks names the BOS token in its table", "[attention_sinks]") {
    LoadedModel m = stories();
    std::vector<TokenizedPrompt> prompts = prompts_of(m);
    CHECK(prompts[0].token_texts[0] == "<s>");  // not ""
    const Result r = run(m, prompts);
    for (const auto& row : table(r, "sinks").rows)
        if (std::get<std::string>(row[3]) == "primary") CHECK(std::get<std::string>(row[2]) == "<s>");
}
