// pattern_statistics on patterns known by construction: a hook replaces every head's pattern
// with uniform causal attention, one head with a previous-token pattern and one with an
// attend-to-the-first-token pattern; the expected numbers follow from the definitions. On
// stories260K (8 query heads sharing 4 key/value heads), so two query heads of one group differ.
#include <torch/torch.h>

#include <catch2/catch.hpp>

#include <cmath>

#include "headscope/model_loader.hpp"
#include "headscope/sdk/analysis_runner.hpp"
#include "support/analysis_support.hpp"
#include "support/test_support.hpp"

using namespace headscope;
using namespace headscope::test;

namespace {

enum class Kind { uniform, previous, first };
const std::pair<int, int> kPrevious{1, 3}, kFirst{2, 6};

Kind kind_of(int layer, int head) {
    if (std::make_pair(layer, head) == kPrevious) return Kind::previous;
    if (std::make_pair(layer, head) == kFirst) return Kind::first;
    return Kind::uniform;
}

// P[q, k] of a head of this kind.
double planted(Kind kind, int64_t q, int64_t k) {
    if (k > q) return 0.0;
    switch (kind) {
        case Kind::previous: return k == std::max<int64_t>(q - 1, 0) ? 1.0 : 0.0;
        case Kind::first: return k == 0 ? 1.0 : 0.0;
        case Kind::uniform: break;
    }
    return 1.0 / static_cast<double>(q + 1);
}

HookFn plant() {
    return [](const at::Tensor& pattern, const HookPoint& point) -> std::optional<at::Tensor> {
        const int64_t H = pattern.size(1), T = pattern.size(2);
        torch::Tensor out = torch::zeros({pattern.size(0), H, T, T}, torch::kDouble);
        for (int64_t h = 0; h < H; ++h)
            for (int64_t q = 0; q < T; ++q)
                for (int64_t k = 0; k <= q; ++k)
                    out[0][h][q][k] = planted(kind_of(point.key.layer, static_cast<int>(h)), q, k);
        return out.to(pattern.scalar_type());
    };
}

struct Expected {
    double first = 0, previous = 0, distance = 0, entropy = 0;
};
// Means over queries 1..T-1 of the definitions, from the planted P.
Expected expected(Kind kind, int64_t T) {
    Expected e;
    for (int64_t q = 1; q < T; ++q) {
        e.first += planted(kind, q, 0);
        e.previous += planted(kind, q, q - 1);
        for (int64_t k = 0; k <= q; ++k) {
            const double p = planted(kind, q, k);
            e.distance += p * static_cast<double>(q - k);
            if (p > 0) e.entropy -= p * std::log(p);
        }
    }
    const double n = static_cast<double>(T - 1);
    return {e.first / n, e.previous / n, e.distance / n, e.entropy / n};
}

}  // namespace

TEST_CASE("pattern_statistics measures planted patterns as their definitions say", "[pattern_statistics]") {
    LoadOptions o;
    o.tokenizer_path = stories_tokenizer();
    LoadedModel m = load_model(stories_bin(), o);
    REQUIRE(m.model->config().n_kv_heads < m.model->config().n_heads);  // GQA
    const std::vector<TokenizedPrompt> prompts = tokenize_prompts(
        *m.tokenizer, {{"", "Once upon a time there was a cat.", "", "", ""}, {"", "Lily saw a big red ball in the park and smiled.", "", "", ""}});
    HookHandle hook = m.model->add_hook("blocks.*.attn.hook_pattern", plant());
    const Result r = run_builtin("pattern_statistics", m, prompts);

    const int L = m.model->config().n_layers, H = m.model->config().n_heads;
    const HeadGrid& first = grid(r, "first_token_share");
    const HeadGrid& previous = grid(r, "previous_token_share");
    const HeadGrid& distance = grid(r, "mean_attention_distance");
    const HeadGrid& entropy = grid(r, "pattern_entropy");
    REQUIRE(first.layers == L);
    REQUIRE(first.heads == H);  // one score per query head
    for (int l = 0; l < L; ++l)
        for (int h = 0; h < H; ++h) {
            Expected e;
            for (const auto& p : prompts) {
                const Expected one = expected(kind_of(l, h), static_cast<int64_t>(p.ids.size()));
                const double n = static_cast<double>(prompts.size());
                e.first += one.first / n, e.previous += one.previous / n, e.distance += one.distance / n,
                    e.entropy += one.entropy / n;
            }
            INFO("L" << l << "H" << h);
            CHECK(first.at(l, h) == Approx(e.first).margin(1e-6));
            CHECK(previous.at(l, h) == Approx(e.previous).margin(1e-6));
            CHECK(distance.at(l, h) == Approx(e.distance).margin(1e-5));
            CHECK(entropy.at(l, h) == Approx(e.entropy).margin(1e-5));
        }
    // Query heads 2 and 3 of layer 1 share a key/value head but are scored apart.
    CHECK(previous.at(1, 3) == Approx(1.0));
    CHECK(previous.at(1, 2) < 0.5);
    CHECK(entropy.at(1, 3) == Approx(0.0).margin(1e-9));
    CHECK(first.at(2, 6) == Approx(1.0));

    // Attention received by each token of the first prompt, from the queries that see it.
    const auto* received = std::get_if<TokenScores>(r.find("attention_received"));
    REQUIRE(received != nullptr);
    const int64_t T = static_cast<int64_t>(prompts[0].ids.size());
    REQUIRE(static_cast<int64_t>(received->scores.size()) == T);
    CHECK(received->tokens == prompts[0].token_texts);
    for (int64_t k = 0; k < T; ++k) {
        double sum = 0;
        for (int l = 0; l < L; ++l)
            for (int h = 0; h < H; ++h)
                for (int64_t q = k; q < T; ++q) sum += planted(kind_of(l, h), q, k);
        CHECK(received->scores[static_cast<size_t>(k)] ==
              Approx(sum / (static_cast<double>(L * H) * static_cast<double>(T - k))).margin(1e-6));
    }
    // The summary names the planted heads.
    REQUIRE(r.summary.size() >= 2);
    CHECK(r.summary[0].rfind("first-token attention: L2H6 1.000", 0) == 0);
    CHECK(r.summary[1].rfind("previous-token attention: L1H3 1.000", 0) == 0);
}

TEST_CASE("pattern_statistics needs a prompt of two tokens", "[pattern_statistics]") {
    LoadOptions o;
    o.tokenizer_path = stories_tokenizer();
    LoadedModel m = load_model(stories_bin(), o);
    const std::vector<TokenizedPrompt> prompts = tokenize_prompts(*m.tokenizer, {{"", "", "", "", ""}});  // [BOS]
    Progress quiet;
    const Result r = run_analysis(builtin_registry(), {"pattern_statistics", {}}, *m.model, *m.tokenizer, prompts, quiet);
    CHECK(r.error.find("at least two tokens") != std::string::npos);
}
