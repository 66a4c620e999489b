// Hook points on a real model: replacement, pass-through, caching, scoping.
#include <torch/torch.h>

#include <catch2/catch.hpp>

#include "headscope/error.hpp"
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
const char* kPrompt = "Tom had a red ball. He liked to throw it high.";
}  // namespace

TEST_CASE("uniform attention via hook_pattern matches the reference's uniform-attention model", "[hooks][reference]") {
    torch::NoGradGuard no_grad;
    LoadedModel m = stories();
    torch::Tensor tokens = tokens_of(m, kPrompt);
    const int64_t T = tokens.size(1);
    HookFn uniform = [T](const at::Tensor& pattern, const HookPoint&) -> std::optional<at::Tensor> {
        torch::Tensor causal = torch::ones({T, T}).tril();
        return (causal / causal.sum(-1, true)).expand_as(pattern).to(pattern.dtype());
    };
    torch::Tensor ours = m.model->run_with_hooks(tokens, {{"blocks.*.attn.hook_pattern", uniform}}).squeeze(0);
    std::vector<int32_t> ids(tokens.data_ptr<int64_t>(), tokens.data_ptr<int64_t>() + T);
    torch::Tensor ref = json_matrix(
        run_reference("llama2c_reference.py", {stories_bin(), "logits", ids_json(ids), "--uniform-attention"}), "logits");
    CHECK((ours.to(torch::kFloat64) - ref).abs().max().item<double>() < 1e-4);
    // ...and it really changed the model's output.
    torch::Tensor clean = m.model->forward(tokens).squeeze(0);
    CHECK((clean - ours).abs().max().item<double>() > 0.1);
}

TEST_CASE("pass-through hooks on every site leave logits bit-identical", "[hooks]") {
    torch::NoGradGuard no_grad;
    LoadedModel m = stories();
    torch::Tensor tokens = tokens_of(m, kPrompt);
    torch::Tensor clean = m.model->forward(tokens);
    size_t calls = 0;
    HookFn identity = [&calls](const at::Tensor& t, const HookPoint&) -> std::optional<at::Tensor> {
        ++calls;
        return t;
    };
    HookFn observe = [&calls](const at::Tensor&, const HookPoint&) -> std::optional<at::Tensor> {
        ++calls;
        return std::nullopt;
    };
    {
        HookHandle a = m.model->add_hook("*", identity);
        HookHandle b = m.model->add_hook("*", observe);
        CHECK(a.size() == m.model->hook_points().size());
        torch::Tensor hooked = m.model->forward(tokens);
        CHECK(torch::equal(clean, hooked));
        CHECK(calls == 2 * m.model->hook_points().size());
    }
    // Handles are gone: no more calls.
    calls = 0;
    m.model->forward(tokens);
    CHECK(calls == 0);
}

TEST_CASE("cached activations have the documented shapes", "[hooks][cache]") {
    torch::NoGradGuard no_grad;
    LoadedModel m = stories();
    torch::Tensor tokens = tokens_of(m, kPrompt).repeat({2, 1});  // batch of 2
    const int64_t B = 2, T = tokens.size(1), d = 64, H = 8, K = 4, dh = 8, mlp = 172;
    CachedRun run = m.model->run_with_cache(tokens, {"*"});
    using S = std::vector<int64_t>;
    auto shape = [&](const std::string& name) {
        auto s = run.cache.at(name).sizes();
        return S(s.begin(), s.end());
    };
    CHECK(shape("hook_embed") == S{B, T, d});
    CHECK(shape("blocks.0.hook_resid_pre") == S{B, T, d});
    CHECK(shape("blocks.0.ln1.hook_scale") == S{B, T, 1});
    CHECK(shape("blocks.0.ln1.hook_normalized") == S{B, T, d});
    CHECK(shape("blocks.1.attn.hook_q") == S{B, T, H, dh});
    CHECK(shape("blocks.1.attn.hook_k") == S{B, T, K, dh});
    CHECK(shape("blocks.1.attn.hook_v") == S{B, T, K, dh});
    CHECK(shape("blocks.1.attn.hook_rot_q") == S{B, T, H, dh});
    CHECK(shape("blocks.1.attn.hook_rot_k") == S{B, T, K, dh});
    CHECK(shape("blocks.2.attn.hook_attn_scores") == S{B, H, T, T});
    CHECK(shape("blocks.2.attn.hook_pattern") == S{B, H, T, T});
    CHECK(shape("blocks.2.attn.hook_z") == S{B, T, H, dh});
    CHECK(shape("blocks.2.attn.hook_result") == S{B, T, H, d});
    CHECK(shape("blocks.3.hook_attn_out") == S{B, T, d});
    CHECK(shape("blocks.3.hook_resid_mid") == S{B, T, d});
    CHECK(shape("blocks.3.ln2.hook_scale") == S{B, T, 1});
    CHECK(shape("blocks.3.mlp.hook_pre") == S{B, T, mlp});
    CHECK(shape("blocks.3.mlp.hook_pre_linear") == S{B, T, mlp});
    CHECK(shape("blocks.3.mlp.hook_post") == S{B, T, mlp});
    CHECK(shape("blocks.4.hook_mlp_out") == S{B, T, d});
    CHECK(shape("blocks.4.hook_resid_post") == S{B, T, d});
    CHECK(shape("ln_final.hook_scale") == S{B, T, 1});
    CHECK(run.cache.size() == m.model->hook_points().size());

    // Internal consistency against the definitions: patterns are causal distributions, the
    // residual stream adds up, per-head results sum to the attention output.
    torch::Tensor pattern = run.cache.at("blocks.2.attn.hook_pattern");
    CHECK(torch::allclose(pattern.sum(-1), torch::ones({B, H, T}), 1e-5, 1e-5));
    CHECK(pattern.triu(1).abs().max().item<float>() == 0.0f);
    torch::Tensor mid = run.cache.at("blocks.3.hook_resid_pre") + run.cache.at("blocks.3.hook_attn_out");
    CHECK(torch::allclose(mid, run.cache.at("blocks.3.hook_resid_mid"), 1e-5, 1e-5));
    torch::Tensor summed = run.cache.at("blocks.2.attn.hook_result").sum(2);
    CHECK(torch::allclose(summed, run.cache.at("blocks.2.hook_attn_out"), 1e-4, 1e-5));
    // The batch rows are the same prompt: identical activations.
    CHECK((run.logits[0] - run.logits[1]).abs().max().item<float>() < 1e-4f);  // float32 rounding only
}

TEST_CASE("run_with_cache filters by exact name and glob", "[hooks][cache]") {
    torch::NoGradGuard no_grad;
    LoadedModel m = stories();
    torch::Tensor tokens = tokens_of(m, kPrompt);
    CachedRun run = m.model->run_with_cache(tokens, {"blocks.*.attn.hook_pattern", "hook_embed"});
    CHECK(run.cache.size() == 6);
    CHECK(run.cache.contains("blocks.4.attn.hook_pattern"));
    CHECK(run.cache.contains("hook_embed"));
    CHECK_FALSE(run.cache.contains("blocks.0.attn.hook_z"));
    CHECK_THROWS_WITH(run.cache.at("blocks.0.attn.hook_z"), Catch::Contains("not in the cache"));
    CHECK(torch::equal(run.logits, m.model->forward(tokens)));
}

TEST_CASE("hook_result is computed only when someone hooks it", "[hooks]") {
    torch::NoGradGuard no_grad;
    LoadedModel m = stories();
    torch::Tensor tokens = tokens_of(m, kPrompt);
    // Zeroing every head's result through hook_result equals zeroing z.
    HookFn zero = [](const at::Tensor& t, const HookPoint&) -> std::optional<at::Tensor> { return torch::zeros_like(t); };
    torch::Tensor via_result = m.model->run_with_hooks(tokens, {{"blocks.2.attn.hook_result", zero}});
    torch::Tensor via_z = m.model->run_with_hooks(tokens, {{"blocks.2.attn.hook_z", zero}});
    CHECK(torch::allclose(via_result, via_z, 1e-5, 1e-5));
    CHECK_FALSE(torch::allclose(via_result, m.model->forward(tokens), 1e-3, 1e-3));
}

TEST_CASE("hook registration errors are clear", "[hooks][errors]") {
    LoadedModel m = stories();
    CHECK_THROWS_WITH(m.model->add_hook("blocks.9.attn.hook_pattern", [](const at::Tensor&, const HookPoint&) {
        return std::optional<at::Tensor>();
    }), Catch::Contains("no hook point matches"));
    CHECK_THROWS_WITH(m.model->add_hook("blocks.0.hook_pos_embed", [](const at::Tensor&, const HookPoint&) {
        return std::optional<at::Tensor>();
    }), Catch::Contains("no hook point matches"));
    HookFn wrong = [](const at::Tensor& t, const HookPoint&) -> std::optional<at::Tensor> { return t.narrow(-1, 0, 1); };
    CHECK_THROWS_WITH(m.model->run_with_hooks(tokens_of(m, "Hi"), {{"blocks.0.hook_resid_pre", wrong}}),
                      Catch::Contains("blocks.0.hook_resid_pre"));
    // The failed run removed its hook: the model still runs clean.
    CHECK_NOTHROW(m.model->forward(tokens_of(m, "Hi")));
}

TEST_CASE("hook names follow TransformerLens and the shorthand maps to them", "[hooks]") {
    CHECK(hook_name("pattern", 3) == "blocks.3.attn.hook_pattern");
    CHECK(hook_name("resid_pre", 0) == "blocks.0.hook_resid_pre");
    CHECK(hook_name("embed", -1) == "hook_embed");
    CHECK(hook_name("pre", 2) == "blocks.2.mlp.hook_pre");
    CHECK_THROWS_AS(hook_name("nonsense", 1), UsageError);
    auto key = parse_hook_name("blocks.12.attn.hook_rot_k");
    REQUIRE(key);
    CHECK(key->layer == 12);
    CHECK(key->site == HookSite::attn_rot_k);
    CHECK_FALSE(parse_hook_name("blocks.x.attn.hook_q"));
    CHECK_FALSE(parse_hook_name("blocks.0.hook_embed"));
    CHECK(glob_match("blocks.*.attn.hook_pattern", "blocks.10.attn.hook_pattern"));
    CHECK_FALSE(glob_match("blocks.*.attn.hook_pattern", "blocks.10.attn.hook_z"));
}

TEST_CASE("long prompts: chunked causal attention equals the dense path that hooks see", "[hooks][attention]") {
    // stories260K's weights (GQA, 8 query / 4 kv heads) with a longer rotary table, so prompts
    // cross several 256-query chunks, the last one partial.
    torch::NoGradGuard no_grad;
    LoadedModel m = stories();
    ModelConfig c = m.model->config();
    c.n_ctx = 1024;
    HookedTransformer model(c, m.model->weights());
    for (int64_t T : {HookedTransformer::kChunkedAttentionFrom, int64_t{700}}) {
        INFO("T = " << T);
        torch::manual_seed(static_cast<uint64_t>(T));
        const torch::Tensor tokens = torch::randint(1, c.d_vocab, {2, T}, torch::kLong);
        const torch::Tensor chunked = model.forward(tokens);
        // A pass-through hook on hook_pattern makes the model materialise every pattern.
        const torch::Tensor dense = model.run_with_hooks(
            tokens, {{"blocks.*.attn.hook_pattern", [](const at::Tensor&, const HookPoint&) { return std::optional<at::Tensor>(); }}});
        CHECK(torch::allclose(chunked, dense, 1e-5, 1e-4));
        CHECK((chunked - dense).abs().max().item<double>() < 1e-4);
    }
}
