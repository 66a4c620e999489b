// Pattern edits (edit_hooks / pattern_heads_hook): uniform, identity, previous and another head's
// pattern, blended with strength α, against hand-written hooks on hook_pattern and the
// independent numpy forward of tests/reference/llama2c_reference.py, on stories260K (GQA).
#include <torch/torch.h>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "headscope/channel_edit.hpp"
#include "headscope/error.hpp"
#include "headscope/hook_names.hpp"
#include "headscope/interventions.hpp"
#include "headscope/model_loader.hpp"
#include "headscope/sink_redistribution.hpp"
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
double max_diff(const torch::Tensor& a, const torch::Tensor& b) {
    return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}
const char* kPrompt = "Lily saw a big dog in the park. She gave the dog a bone.";

// The target written out element by element (not with target_pattern's tensor formulas).
torch::Tensor hand_target(const std::string& kind, int64_t T) {
    torch::Tensor t = torch::zeros({T, T});
    for (int64_t q = 0; q < T; ++q) {
        if (kind == "uniform")
            for (int64_t k = 0; k <= q; ++k) t[q][k] = 1.0 / static_cast<double>(q + 1);
        else if (kind == "identity")
            t[q][q] = 1.0;
        else
            t[q][q == 0 ? 0 : q - 1] = 1.0;
    }
    return t;
}
}  // namespace

TEST_CASE("pattern edits equal hand-written hooks on hook_pattern; α = 0 and α = 1", "[interventions][pattern]") {
    LoadedModel m = stories();
    HookedTransformer& model = *m.model;
    REQUIRE(model.config().n_kv_heads < model.config().n_heads);  // GQA: edits are per query head
    torch::NoGradGuard no_grad;
    auto ids = m.tokenizer->encode(kPrompt, true).ids;
    torch::Tensor tokens = torch::tensor(std::vector<int64_t>(ids.begin(), ids.end()), torch::kLong).unsqueeze(0);
    const int64_t T = tokens.size(1);
    const torch::Tensor clean = model.forward(tokens);
    const int layer = 2, head = 3;
    for (const std::string kind : {"uniform", "identity", "previous"}) {
        for (double alpha : {0.0, 0.5, 1.0}) {
            DYNAMIC_SECTION(kind << " @ " << alpha) {
                const HeadEdit e = parse_head_edit(fmt::format("L{}H{}=pattern:{}@{}", layer, head, kind, alpha));
                CachedRun edited = model.run_with_cache(tokens, {"blocks.2.attn.hook_pattern", "blocks.2.attn.hook_v"},
                                                        edit_hooks({e}, model.config().n_layers, model.config().n_heads));
                const torch::Tensor target = hand_target(kind, T);
                HookFn by_hand = [&](const at::Tensor& A, const HookPoint&) -> std::optional<at::Tensor> {
                    torch::Tensor out = A.clone();
                    if (alpha == 1.0)
                        out.select(1, head).copy_(target.unsqueeze(0));  // the full replacement, no blending
                    else
                        out.select(1, head).copy_(A.select(1, head) * (1 - alpha) + target * alpha);
                    return out;
                };
                const torch::Tensor want = model.run_with_hooks(tokens, {{"blocks.2.attn.hook_pattern", by_hand}});
                CHECK(max_diff(edited.logits, want) < 1e-6);
                if (alpha == 0.0)
                    CHECK(max_diff(edited.logits, clean) == 0.0);  // changes nothing
                else
                    CHECK(max_diff(edited.logits, clean) > 1e-4);
                // Only that query head's pattern moved; its rows still sum to 1; the kv heads untouched.
                CachedRun plain = model.run_with_cache(tokens, {"blocks.2.attn.hook_pattern", "blocks.2.attn.hook_v"});
                const torch::Tensor A1 = edited.cache.at("blocks.2.attn.hook_pattern"), A0 = plain.cache.at("blocks.2.attn.hook_pattern");
                for (int h = 0; h < model.config().n_heads; ++h)
                    if (h != head) CHECK(max_diff(A1.select(1, h), A0.select(1, h)) == 0.0);
                CHECK(max_diff(A1.select(1, head).sum(-1), torch::ones({1, T})) < 1e-5);
                CHECK(max_diff(edited.cache.at("blocks.2.attn.hook_v"), plain.cache.at("blocks.2.attn.hook_v")) == 0.0);
            }
        }
    }
    SECTION("head copy: another head's pattern in the same run") {
        for (const std::string source : {"L1H5", "L2H0"}) {
            const HeadEdit e = parse_head_edit("L2H3=pattern:head:" + source + "@0.75");
            const torch::Tensor got = model.run_with_hooks(tokens, edit_hooks({e}, model.config().n_layers, model.config().n_heads));
            CachedRun plain = model.run_with_cache(tokens, {"blocks.1.attn.hook_pattern", "blocks.2.attn.hook_pattern"});
            const torch::Tensor src = plain.cache.at(fmt::format("blocks.{}.attn.hook_pattern", source[1] - '0')).select(1, source[3] - '0');
            HookFn by_hand = [&](const at::Tensor& A, const HookPoint&) -> std::optional<at::Tensor> {
                torch::Tensor out = A.clone();
                out.select(1, 3).copy_(A.select(1, 3) * 0.25 + src * 0.75);
                return out;
            };
            CHECK(max_diff(got, model.run_with_hooks(tokens, {{"blocks.2.attn.hook_pattern", by_hand}})) < 1e-6);
        }
        CHECK_THROWS_AS(edit_hooks({parse_head_edit("L1H3=pattern:head:L2H0")}, 5, 8), UsageError);  // later layer
    }
    SECTION("edits of heads the model lacks are refused") {
        CHECK_THROWS_AS(edit_hooks({parse_head_edit("L9H0=zero")}, model.config().n_layers, model.config().n_heads), UsageError);
        CHECK_THROWS_AS(edit_hooks({parse_head_edit("L0H8=pattern:uniform")}, model.config().n_layers, model.config().n_heads),
                        UsageError);
    }
}

TEST_CASE("pattern edits match the independent numpy forward", "[interventions][pattern][reference]") {
    LoadedModel m = stories();
    torch::NoGradGuard no_grad;
    auto ids = m.tokenizer->encode("Once upon a time, there was a little girl", true).ids;
    torch::Tensor tokens = torch::tensor(std::vector<int64_t>(ids.begin(), ids.end()), torch::kLong).unsqueeze(0);
    for (const std::string kind : {"uniform", "identity", "previous"}) {
        INFO(kind);
        const std::string out = run_reference("llama2c_reference.py", {stories_bin(), "logits", ids_json(ids), "--pattern-edit",
                                                                        "3", "5", kind, "0.6"});
        const torch::Tensor want = json_matrix(out, "logits");
        const torch::Tensor got = m.model->run_with_hooks(tokens, {pattern_heads_hook(3, {5}, kind == "uniform" ? PatternTarget::uniform
                                                                                               : kind == "identity" ? PatternTarget::identity
                                                                                                                    : PatternTarget::previous,
                                                                                      0.6)})[0];
        CHECK(max_diff(got, want) < 1e-4);
        CHECK(max_diff(m.model->forward(tokens)[0], want) > 1e-3);  // the edit matters
    }
}

// The --intervene spellings of the Talking-Heads channel edit and sink redistribution are the
// same hooks as channel_edit_hook / drop_sink_hook (each checked against numpy in
// test_analysis_talking_heads.cpp and test_sink_redistribution.cpp), and they change the logits.
TEST_CASE("channel and drop_sink edits through edit_hooks equal their hook factories", "[interventions][channel_edit][drop_sink]") {
    LoadedModel m = stories();
    HookedTransformer& model = *m.model;
    torch::NoGradGuard no_grad;
    auto ids = m.tokenizer->encode(kPrompt, true).ids;
    torch::Tensor tokens = torch::tensor(std::vector<int64_t>(ids.begin(), ids.end()), torch::kLong).unsqueeze(0);
    const torch::Tensor clean = model.forward(tokens);

    ChannelEditOptions options;
    options.scale = 3.0;
    options.rank = 2;
    const torch::Tensor channel = model.run_with_hooks(tokens, edit_hooks({parse_head_edit("L2H3=channel:3@2")}, model));
    CHECK(max_diff(channel, model.run_with_hooks(tokens, {channel_edit_hook(model, 2, {3}, options)})) < 1e-6);
    CHECK(max_diff(channel, clean) > 1e-3);

    const torch::Tensor sink = model.run_with_hooks(tokens, edit_hooks({parse_head_edit("L1H0=drop_sink:0.5")}, model));
    CHECK(max_diff(sink, model.run_with_hooks(tokens, {drop_sink_hook(1, {0}, 0.5, {0})})) < 1e-6);
    CHECK(max_diff(sink, clean) > 1e-4);

    // Without the model a channel edit cannot be built: a clear refusal, not a crash.
    CHECK_THROWS_AS(edit_hooks({parse_head_edit("L2H3=channel:3")}, model.config().n_layers, model.config().n_heads),
                    UsageError);
}
