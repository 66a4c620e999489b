// The sweep engine (headscope/head_sweep.hpp) and HookedTransformer::run_from_layer against the
// plain path — one full hooked forward pass per edited head — on GPT-2-, Llama-GQA- and
// NeoX-shaped random checkpoints (written by the independent tests/reference/hf_reference.py).
#include <torch/torch.h>

#include <catch2/catch.hpp>

#include "headscope/error.hpp"
#include "headscope/head_sweep.hpp"
#include "headscope/hook_names.hpp"
#include "headscope/interventions.hpp"
#include "headscope/model_loader.hpp"
#include "support/reference.hpp"
#include "support/test_support.hpp"

using namespace headscope;
using namespace headscope::test;

namespace {

double max_diff(const torch::Tensor& a, const torch::Tensor& b) {
    return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

// One full forward per head with a hand-written hook editing only that head: the path the sweep
// must reproduce. fn(z_or_pattern_of_head, prompt index) -> the replacement.
torch::Tensor one_forward_per_head(HookedTransformer& model, const torch::Tensor& tokens, const std::vector<HeadRef>& heads,
                                   HookSite site, const std::function<torch::Tensor(const torch::Tensor&)>& edit_head,
                                   const std::vector<NamedHook>& base = {}) {
    std::vector<torch::Tensor> out;
    for (const HeadRef& h : heads) {
        std::vector<NamedHook> hooks = base;
        const int axis = site == HookSite::attn_z ? 2 : 1;
        hooks.push_back({hook_name(HookKey{site, h.layer}), [h, axis, edit_head](const at::Tensor& t, const HookPoint&) -> std::optional<at::Tensor> {
                             torch::Tensor r = t.clone();
                             r.select(axis, h.head).copy_(edit_head(t.select(axis, h.head)));
                             return r;
                         }});
        out.push_back(model.run_with_hooks(tokens, hooks).select(1, -1));  // [N, V]
    }
    return torch::stack(out);  // [heads, N, V]
}

torch::Tensor swept(HookedTransformer& model, const torch::Tensor& tokens, const std::vector<HeadRef>& heads,
                    const SweepEdit& edit, const std::vector<NamedHook>& base = {}) {
    HeadSweep sweep(model, tokens, base);
    std::vector<torch::Tensor> got(heads.size());
    size_t scored = 0;
    sweep.run(heads, edit, [&](size_t first, const at::Tensor& logits) {
        for (int64_t r = 0; r < logits.size(0); ++r) {
            got[first + static_cast<size_t>(r)] = logits[r].select(1, 0);  // [N, V]
            ++scored;
        }
    });
    REQUIRE(scored == heads.size());
    return torch::stack(got);
}

}  // namespace

TEST_CASE("sweep engine equals one forward per head (GPT-2, Llama GQA, NeoX)", "[head_sweep][reference]") {
    TempDir tmp;
    struct Family {
        const char* name;
        std::vector<std::string> flags;
    };
    for (const Family& f : {Family{"gpt2", {"--layers", "3"}}, Family{"llama", {"--layers", "3", "--gqa"}},
                            Family{"gpt_neox", {"--layers", "3"}}}) {
        DYNAMIC_SECTION(f.name) {
            const std::string dir = tmp.file(f.name);
            std::vector<std::string> args{"write", f.name, dir, "--seed", "9"};
            args.insert(args.end(), f.flags.begin(), f.flags.end());
            run_reference("hf_reference.py", args);
            LoadedModel m = load_model(dir);
            HookedTransformer& model = *m.model;
            const ModelConfig& cfg = model.config();
            if (std::string(f.name) == "llama") REQUIRE(cfg.n_kv_heads < cfg.n_heads);
            torch::NoGradGuard no_grad;
            torch::manual_seed(3);
            const torch::Tensor tokens = torch::randint(cfg.d_vocab, {3, 9}, torch::kLong);  // 3 prompts, 9 positions
            std::vector<HeadRef> heads;
            for (int l = cfg.n_layers - 1; l >= 0; --l)  // out of layer order on purpose
                for (int h = 0; h < cfg.n_heads; ++h) heads.push_back({l, h});

            // run_from_layer from a cached resid_pre reproduces the forward's logits at chosen positions.
            CachedRun clean = model.run_with_cache(tokens, {"blocks.*.hook_resid_pre"});
            for (int l = 0; l < cfg.n_layers; ++l) {
                torch::Tensor resid = clean.cache.at(hook_name(HookKey{HookSite::resid_pre, l}));
                torch::Tensor part = model.run_from_layer(l, resid, {-1, 2});
                CHECK(max_diff(part.select(1, 0), clean.logits.select(1, -1)) < 1e-5);
                CHECK(max_diff(part.select(1, 1), clean.logits.select(1, 2)) < 1e-5);
            }

            // Zero ablation, scaling, patching a per-prompt z, and pattern edits.
            const torch::Tensor zero_ref = one_forward_per_head(model, tokens, heads, HookSite::attn_z,
                                                                [](const torch::Tensor& z) { return torch::zeros_like(z); });
            CHECK(max_diff(swept(model, tokens, heads, SweepEdit::zero()), zero_ref) < 1e-5);
            // ... and the effect is not trivially zero
            CHECK(max_diff(zero_ref, clean.logits.select(1, -1).unsqueeze(0).expand_as(zero_ref)) > 1e-3);

            const torch::Tensor scale_ref = one_forward_per_head(model, tokens, heads, HookSite::attn_z,
                                                                 [](const torch::Tensor& z) { return z * 2.5; });
            CHECK(max_diff(swept(model, tokens, heads, SweepEdit::scale(2.5)), scale_ref) < 1e-5);

            const torch::Tensor other = torch::randint(cfg.d_vocab, {3, 9}, torch::kLong);
            CachedRun source = model.run_with_cache(other, {"blocks.*.attn.hook_z"});
            std::vector<torch::Tensor> patched;
            for (const HeadRef& h : heads) {
                torch::Tensor src = source.cache.at(hook_name(HookKey{HookSite::attn_z, h.layer}));
                patched.push_back(model
                                      .run_with_hooks(tokens, {patch_heads_hook(h.layer, {h.head}, src)})
                                      .select(1, -1));
            }
            SweepEdit set = SweepEdit::set([&](int l) { return source.cache.at(hook_name(HookKey{HookSite::attn_z, l})); });
            CHECK(max_diff(swept(model, tokens, heads, set), torch::stack(patched)) < 1e-5);

            const torch::Tensor uniform = target_pattern(PatternTarget::uniform, 9, torch::TensorOptions().dtype(torch::kFloat));
            const torch::Tensor pattern_ref = one_forward_per_head(
                model, tokens, heads, HookSite::attn_pattern, [&](const torch::Tensor& A) { return A * 0.3 + uniform * 0.7; });
            CHECK(max_diff(swept(model, tokens, heads, SweepEdit::pattern(PatternTarget::uniform, 0.7)), pattern_ref) < 1e-5);

            // With base edits (the head_search step): the base hooks stay on for every candidate.
            const std::vector<NamedHook> base = edit_hooks({parse_head_edit("L0H1=zero"), parse_head_edit("L2H0=scale:0.5")},
                                                           cfg.n_layers, cfg.n_heads);
            const torch::Tensor based_ref = one_forward_per_head(
                model, tokens, heads, HookSite::attn_z, [](const torch::Tensor& z) { return torch::zeros_like(z); }, base);
            CHECK(max_diff(swept(model, tokens, heads, SweepEdit::zero(), base), based_ref) < 1e-5);
        }
    }
}

TEST_CASE("run_from_z and the scored-only last layer equal the full forward on every norm layout", "[head_sweep][reference]") {
    TempDir tmp;
    struct Family {
        const char* script;
        const char* variant;
        std::vector<std::string> flags;
    };
    // Pre-norm (gpt2, llama GQA), parallel residual (gpt_neox), pre+post norms with soft caps and
    // a sliding window (gemma2), QK norm with local rotary (gemma3_text), post-norm (olmo2).
    for (const Family& f : {Family{"hf_reference.py", "gpt2", {"--layers", "3"}},
                            Family{"hf_reference.py", "llama", {"--layers", "3", "--gqa"}},
                            Family{"hf_reference.py", "gpt_neox", {"--layers", "3"}},
                            Family{"hf_decoder_reference.py", "gemma2", {}},
                            Family{"hf_decoder_reference.py", "gemma3_text", {}},
                            Family{"hf_decoder_reference.py", "olmo2", {}}}) {
        DYNAMIC_SECTION(f.variant) {
            const std::string dir = tmp.file(f.variant);
            std::vector<std::string> args{"write", f.variant, dir, "--seed", "4"};
            args.insert(args.end(), f.flags.begin(), f.flags.end());
            run_reference(f.script, args);
            LoadedModel m = load_model(dir);
            HookedTransformer& model = *m.model;
            const ModelConfig& cfg = model.config();
            const int last = cfg.n_layers - 1;
            torch::NoGradGuard no_grad;
            torch::manual_seed(5);
            const int64_t T = 11;
            const torch::Tensor tokens = torch::randint(cfg.d_vocab, {2, T}, torch::kLong);
            CachedRun clean = model.run_with_cache(tokens, {"blocks.*.hook_resid_pre", "blocks.*.attn.hook_z"});
            const torch::Tensor full = model.forward(tokens);
            REQUIRE(max_diff(full, clean.logits) < 1e-5);

            // forward at a few positions (the last layer then runs only there) equals the full rows.
            const torch::Tensor scored = model.forward(tokens, {-1, 3, 0});
            CHECK(max_diff(scored.select(1, 0), full.select(1, -1)) < 1e-5);
            CHECK(max_diff(scored.select(1, 1), full.select(1, 3)) < 1e-5);
            CHECK(max_diff(scored.select(1, 2), full.select(1, 0)) < 1e-5);

            // A hook on the last layer sees every position, as without logit positions.
            int64_t seen_queries = 0;
            const torch::Tensor hooked = model.run_with_hooks(
                tokens,
                {{hook_name(HookKey{HookSite::attn_pattern, last}),
                  [&](const at::Tensor& a, const HookPoint&) -> std::optional<at::Tensor> {
                      seen_queries = a.size(2);
                      return std::nullopt;
                  }}},
                {-1});
            CHECK(seen_queries == T);
            CHECK(max_diff(hooked.select(1, 0), full.select(1, -1)) < 1e-5);

            for (int l = 0; l < cfg.n_layers; ++l) {
                INFO("layer " << l);
                const torch::Tensor resid = clean.cache.at(hook_name(HookKey{HookSite::resid_pre, l}));
                const torch::Tensor z = clean.cache.at(hook_name(HookKey{HookSite::attn_z, l}));
                CHECK(max_diff(model.run_from_z(l, resid, z), full) < 1e-5);
                const torch::Tensor part = model.run_from_z(l, resid, z, {-1, 2});
                CHECK(max_diff(part.select(1, 0), full.select(1, -1)) < 1e-5);
                CHECK(max_diff(part.select(1, 1), full.select(1, 2)) < 1e-5);
                // An edited z equals a hook making the same edit in a full forward.
                torch::Tensor edited = z.clone();
                edited.select(2, 1).mul_(-0.5);
                const torch::Tensor want = model.run_with_hooks(
                    tokens, {{hook_name(HookKey{HookSite::attn_z, l}),
                              [](const at::Tensor& t, const HookPoint&) -> std::optional<at::Tensor> {
                                  torch::Tensor r = t.clone();
                                  r.select(2, 1).mul_(-0.5);
                                  return r;
                              }}});
                CHECK(max_diff(want, full) > 1e-4);  // the edit matters
                CHECK(max_diff(model.run_from_z(l, resid, edited), want) < 1e-5);
                CHECK(max_diff(model.run_from_z(l, resid, edited, {-1}).select(1, 0), want.select(1, -1)) < 1e-5);
            }
            // Bad input: a layer outside the model, a z of the wrong shape.
            const torch::Tensor r0 = clean.cache.at(hook_name(HookKey{HookSite::resid_pre, 0}));
            const torch::Tensor z0 = clean.cache.at(hook_name(HookKey{HookSite::attn_z, 0}));
            CHECK_THROWS_AS(model.run_from_z(cfg.n_layers, r0, z0), UsageError);
            CHECK_THROWS_AS(model.run_from_z(0, r0, z0.narrow(1, 0, T - 1)), UsageError);
            CHECK_THROWS_AS(model.run_from_z(0, r0, z0.flatten(2)), UsageError);
            CHECK_THROWS_AS(model.run_from_z(0, r0, z0, {T}), UsageError);
        }
    }
}

TEST_CASE("run_from_layer and HeadSweep refuse bad input", "[head_sweep]") {
    LoadOptions o;
    o.tokenizer_path = stories_tokenizer();
    LoadedModel m = load_model(stories_bin(), o);
    const ModelConfig& cfg = m.model->config();
    CHECK_THROWS_AS(m.model->run_from_layer(cfg.n_layers + 1, torch::zeros({1, 3, cfg.d_model})), UsageError);
    CHECK_THROWS_AS(m.model->run_from_layer(0, torch::zeros({1, 3, cfg.d_model + 1})), UsageError);
    CHECK_THROWS_AS(m.model->run_from_layer(0, torch::zeros({1, 3, cfg.d_model}), {5}), UsageError);
    torch::Tensor tokens = torch::tensor(std::vector<int64_t>{1, 20, 30}, torch::kLong).unsqueeze(0);
    HeadSweep sweep(*m.model, tokens);
    CHECK_THROWS_AS(sweep.run({{cfg.n_layers, 0}}, SweepEdit::zero(), [](size_t, const at::Tensor&) {}), UsageError);
    CHECK_THROWS_AS(SweepEdit::pattern(PatternTarget::uniform, 1.5), UsageError);
}
