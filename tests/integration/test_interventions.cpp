// Intervention hook factories (core/include/headscope/interventions.hpp) on real models, against
// hand-written hooks and the independent GPT-2 reference (tests/reference/analysis_reference_b.py).
#include <torch/torch.h>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "headscope/error.hpp"
#include "headscope/interventions.hpp"
#include "headscope/model_loader.hpp"
#include "support/reference.hpp"
#include "support/test_support.hpp"

using namespace headscope;
using namespace headscope::test;

namespace {
LoadedModel stories() {
    LoadOptions o;
    o.tokenizer_path = stories_tokenizer();
    return load_model(stories_bin(), o);
}
torch::Tensor tokens_of(const LoadedModel& m, const std::string& text) {
    auto ids = m.tokenizer->encode(text, true).ids;
    return torch::tensor(std::vector<int64_t>(ids.begin(), ids.end()), torch::kLong).unsqueeze(0);
}
torch::Tensor ids_tensor(const std::vector<int32_t>& ids) {
    return torch::tensor(std::vector<int64_t>(ids.begin(), ids.end()), torch::kLong).unsqueeze(0);
}
double max_diff(const torch::Tensor& a, const torch::Tensor& b) {
    return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}
// A hand-written hook: z[:, :, head] = value(z) (all positions).
HookFn set_head(int head, std::function<torch::Tensor(const torch::Tensor&)> value) {
    return [head, value](const at::Tensor& z, const HookPoint&) -> std::optional<at::Tensor> {
        torch::Tensor out = z.clone();
        out.select(2, head).copy_(value(z.select(2, head)));
        return out;
    };
}
const char* kPrompt = "Lily saw a big dog in the park. She gave the dog a bone.";
}  // namespace

TEST_CASE("head hooks edit only the chosen heads' z, per query head (GQA)", "[interventions]") {
    torch::NoGradGuard no_grad;
    LoadedModel m = stories();
    REQUIRE(m.model->config().n_kv_heads < m.model->config().n_heads);  // GQA: 8 query heads, 4 kv heads
    torch::Tensor tokens = tokens_of(m, kPrompt);
    const std::string z2 = hook_name("z", 2);
    CachedRun clean = m.model->run_with_cache(tokens, {z2});
    const torch::Tensor zc = clean.cache.at(z2);

    SECTION("zero") {
        CachedRun run = m.model->run_with_cache(tokens, {z2}, {zero_heads_hook(2, {3, 5})});
        const torch::Tensor z = run.cache.at(z2);
        CHECK(z.select(2, 3).abs().max().item<double>() == 0.0);
        CHECK(z.select(2, 5).abs().max().item<double>() == 0.0);
        // Head 2 shares head 3's kv head: untouched.
        for (int h : {0, 1, 2, 4, 6, 7}) CHECK(torch::equal(z.select(2, h), zc.select(2, h)));
        CHECK(max_diff(run.logits, clean.logits) > 1e-4);
        // The same as a hand-written hook.
        torch::Tensor hand = m.model->run_with_hooks(
            tokens, {{z2, set_head(3, [](const torch::Tensor& t) { return torch::zeros_like(t); })},
                     {z2, set_head(5, [](const torch::Tensor& t) { return torch::zeros_like(t); })}});
        CHECK(max_diff(run.logits, hand) < 1e-6);
    }
    SECTION("scale by 1 changes nothing; by 0 equals zero ablation") {
        CHECK(torch::equal(m.model->run_with_hooks(tokens, {scale_heads_hook(2, {1, 6}, 1.0)}), clean.logits));
        CHECK(torch::equal(m.model->run_with_hooks(tokens, {scale_heads_hook(2, {1, 6}, 0.0)}),
                           m.model->run_with_hooks(tokens, {zero_heads_hook(2, {1, 6})})));
        torch::Tensor hand = m.model->run_with_hooks(
            tokens, {{z2, set_head(1, [](const torch::Tensor& t) { return t * 0.5; })},
                     {z2, set_head(6, [](const torch::Tensor& t) { return t * 0.5; })}});
        CHECK(max_diff(m.model->run_with_hooks(tokens, {scale_heads_hook(2, {1, 6}, 0.5)}), hand) < 1e-6);
    }
    SECTION("positions: only the last position is edited") {
        CachedRun run = m.model->run_with_cache(tokens, {z2}, {zero_heads_hook(2, {4}, {-1})});
        const torch::Tensor z = run.cache.at(z2);
        const int64_t T = z.size(1);
        CHECK(z[0][T - 1][4].abs().max().item<double>() == 0.0);
        CHECK(torch::equal(z.narrow(1, 0, T - 1), zc.narrow(1, 0, T - 1)));
        // Earlier positions' logits are unchanged (causal), the last one changed.
        CHECK(torch::equal(run.logits.narrow(1, 0, T - 1), clean.logits.narrow(1, 0, T - 1)));
        CHECK_THROWS_AS(m.model->run_with_hooks(tokens, {zero_heads_hook(2, {4}, {T})}), UsageError);
    }
    SECTION("mean ablation with a per-head mean and a per-position mean") {
        torch::Tensor mean = torch::randn({8, 8});
        CachedRun run = m.model->run_with_cache(tokens, {z2}, {mean_ablate_heads_hook(2, {7}, mean)});
        const torch::Tensor z = run.cache.at(z2);
        CHECK(max_diff(z[0].select(1, 7), mean[7].expand({z.size(1), 8})) == 0.0);
        CHECK(torch::equal(z.narrow(2, 0, 7), zc.narrow(2, 0, 7)));
        torch::Tensor per_pos = torch::randn({zc.size(1), 8, 8});
        run = m.model->run_with_cache(tokens, {z2}, {mean_ablate_heads_hook(2, {0}, per_pos)});
        CHECK(max_diff(run.cache.at(z2)[0].select(1, 0), per_pos.select(1, 0)) == 0.0);
        CHECK_THROWS_AS(m.model->run_with_hooks(tokens, {mean_ablate_heads_hook(2, {0}, torch::zeros({3, 8}))}),
                        UsageError);
    }
    SECTION("patching a head from another run") {
        torch::Tensor other = tokens_of(m, "Lily saw a big cat in the park. She gave the cat a fish.");
        REQUIRE(other.size(1) == tokens.size(1));
        CachedRun src = m.model->run_with_cache(other, {z2});
        CachedRun run = m.model->run_with_cache(tokens, {z2}, {patch_heads_hook(2, {2}, src.cache.at(z2))});
        const torch::Tensor z = run.cache.at(z2);
        CHECK(torch::equal(z.select(2, 2), src.cache.at(z2).select(2, 2)));
        CHECK(torch::equal(z.select(2, 3), zc.select(2, 3)));
        // Without the batch axis, too.
        CachedRun run2 = m.model->run_with_cache(tokens, {z2}, {patch_heads_hook(2, {2}, src.cache.at(z2)[0])});
        CHECK(torch::equal(run2.logits, run.logits));
        torch::Tensor shorter = tokens_of(m, "Lily saw a dog.");
        CHECK_THROWS_AS(m.model->run_with_hooks(shorter, {patch_heads_hook(2, {2}, src.cache.at(z2))}), UsageError);
    }
    SECTION("head_interventions groups edits per layer in order") {
        torch::Tensor mean = torch::randn({8, 8});
        std::vector<HeadIntervention> edits{{2, 1, InterventionMode::scale, 0.25, {}, {}},
                                            {2, 1, InterventionMode::scale, 2.0, {}, {}},
                                            {0, 4, InterventionMode::zero, 0, {}, {}},
                                            {3, 6, InterventionMode::mean, 0, mean, {}}};
        std::vector<NamedHook> hooks = head_interventions(edits);
        CHECK(hooks.size() == 3);
        torch::Tensor composed = m.model->run_with_hooks(
            tokens, {scale_heads_hook(2, {1}, 0.5), zero_heads_hook(0, {4}), mean_ablate_heads_hook(3, {6}, mean)});
        CHECK(max_diff(m.model->run_with_hooks(tokens, hooks), composed) < 1e-6);
    }
    SECTION("bad requests") {
        CHECK_THROWS_AS(zero_heads_hook(-1, {0}), UsageError);
        CHECK_THROWS_AS(scale_heads_hook(0, {-2}, 1.0), UsageError);
        CHECK_THROWS_AS(scale_heads_hook(0, {0}, std::nan("")), UsageError);
        CHECK_THROWS_AS(m.model->run_with_hooks(tokens, {zero_heads_hook(1, {8})}), UsageError);  // head 8 of 8
        CHECK_THROWS_AS(m.model->run_with_hooks(tokens, {zero_heads_hook(9, {0})}), UsageError);  // layer 9 of 5
        CHECK_THROWS_AS(head_interventions({{0, 0, InterventionMode::patch, 0, {}, {}}}), UsageError);
        CHECK_THROWS_AS(patch_hook("blocks.*.hook_resid_pre", torch::zeros({1})), UsageError);
        CHECK_THROWS_AS(parse_intervention_mode("squash"), UsageError);
        CHECK(parse_intervention_mode("resample") == InterventionMode::patch);
    }
}

TEST_CASE("patch_hook restores a clean run from any hook point", "[interventions]") {
    torch::NoGradGuard no_grad;
    LoadedModel m = stories();
    torch::Tensor clean_tokens = tokens_of(m, kPrompt);
    torch::Tensor corrupt = tokens_of(m, "Lily saw a big cat in the park. She gave the cat a fish.");
    REQUIRE(clean_tokens.size(1) == corrupt.size(1));
    const std::string resid = hook_name("resid_pre", 3), pattern = hook_name("pattern", 1);
    CachedRun clean = m.model->run_with_cache(clean_tokens, {resid, pattern});
    // Patching the whole residual stream into layer 3 gives the clean logits.
    torch::Tensor patched = m.model->run_with_hooks(corrupt, {patch_hook(resid, clean.cache.at(resid))});
    CHECK(max_diff(patched, clean.logits) < 1e-5);
    // Only the last position, after the last layer: the last position's logits become the clean
    // run's, the others stay the corrupted run's.
    const std::string out = hook_name("resid_post", m.model->config().n_layers - 1);
    CachedRun clean_out = m.model->run_with_cache(clean_tokens, {out});
    torch::Tensor corrupted_logits = m.model->forward(corrupt);
    const int64_t T = corrupt.size(1);
    torch::Tensor last = m.model->run_with_hooks(corrupt, {patch_hook(out, clean_out.cache.at(out), {-1})});
    CHECK(torch::equal(last.narrow(1, 0, T - 1), corrupted_logits.narrow(1, 0, T - 1)));
    CHECK(max_diff(last.select(1, T - 1), clean.logits.select(1, T - 1)) < 1e-5);
    CHECK(max_diff(corrupted_logits.select(1, T - 1), clean.logits.select(1, T - 1)) > 1e-2);
    // Patterns: positions are the query axis.
    CachedRun pat = m.model->run_with_cache(corrupt, {pattern}, {patch_hook(pattern, clean.cache.at(pattern), {2})});
    CHECK(torch::equal(pat.cache.at(pattern).select(2, 2), clean.cache.at(pattern).select(2, 2)));
    CHECK_THROWS_AS(m.model->run_with_hooks(corrupt, {patch_hook(resid, torch::zeros({1, T, 3}))}), UsageError);
}

TEST_CASE("scaling heads matches the independent GPT-2 reference", "[interventions][reference]") {
    torch::NoGradGuard no_grad;
    TempDir tmp;
    const std::string dir = tmp.file("gpt2");
    run_reference("hf_reference.py", {"write", "gpt2", dir, "--seed", "11"});
    LoadedModel m = load_model(dir);
    const std::vector<int32_t> ids{72, 101, 108, 108, 111, 32, 87, 111, 114, 108, 100, 33};
    const int answer = 77, alternative = 74;
    for (double factor : {0.0, 0.5, 1.7}) {
        auto ref = nlohmann::json::parse(run_reference(
            "analysis_reference_b.py", {"edit", dir, ids_json(ids), std::to_string(answer), std::to_string(alternative),
                                        "0.1,1.3,1.0", fmt::format("{}", factor)}));
        torch::Tensor logits = m.model->run_with_hooks(
            ids_tensor(ids), head_interventions({{0, 1, InterventionMode::scale, factor, {}, {}},
                                                 {1, 3, InterventionMode::scale, factor, {}, {}},
                                                 {1, 0, InterventionMode::scale, factor, {}, {}}}))[0][-1];
        const double ld = (logits[answer] - logits[alternative]).item<double>();
        CHECK(ld == Approx(ref.at("logit_diff").get<double>()).margin(1e-4));
        CHECK(std::abs(ld - ref.at("logit_diff_clean").get<double>()) > (factor == 1.7 || factor == 0.0 ? 1e-3 : 0.0));
    }
}

TEST_CASE("gradients flow through intervention hooks", "[interventions]") {
    LoadedModel m = stories();
    torch::Tensor tokens = tokens_of(m, kPrompt);
    torch::Tensor source;
    {
        torch::NoGradGuard no_grad;
        source = m.model->run_with_cache(tokens, {hook_name("z", 1)}).cache.at(hook_name("z", 1));
    }
    // A leaf upstream of the edited hook still gets a gradient through the unedited heads.
    torch::Tensor leaf;
    NamedHook capture{hook_name("resid_pre", 1), [&leaf](const at::Tensor& x, const HookPoint&) -> std::optional<at::Tensor> {
                          leaf = x.detach().clone().requires_grad_(true);
                          return leaf;
                      }};
    torch::Tensor logits = m.model->run_with_hooks(tokens, {capture, patch_heads_hook(1, {0, 1, 2}, source)});
    logits[0][-1][5].backward();
    REQUIRE(leaf.grad().defined());
    CHECK(leaf.grad().abs().sum().item<double>() > 0.0);
}
