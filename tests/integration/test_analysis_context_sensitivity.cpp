// context_sensitivity: against the model's own per-head outputs (hook_result of the runs with and
// without the context, computed here), zero for a head planted to be blind to the context, and the
// prompt-set formats (a "context" field, a <context>…</context> span) load as documented.
#include <torch/torch.h>

#include <catch2/catch.hpp>

#include "headscope/error.hpp"
#include "headscope/model_loader.hpp"
#include "headscope/sdk/prompts.hpp"
#include "support/analysis_support.hpp"
#include "support/test_support.hpp"

using namespace headscope;
using namespace headscope::test;

namespace {

LoadedModel tiny_world_f64() {
    LoadOptions o;
    o.compute.dtype = at::kDouble;
    return load_model(source_dir() + "/data/models/tiny-world", o);
}

PromptExample with_context(const std::string& context, const std::string& query) {
    PromptExample e;
    e.task = "capitals_context";
    e.prompt = context + query;
    e.context = context;
    e.context_offset = 0;
    return e;
}

std::vector<PromptExample> examples() {
    return {with_context("The capital of Xerath is Sorrel. ", "The capital of Xerath is"),
            with_context("The capital of Umbria is Tallow. ", "The capital of Umbria is"),
            with_context("Shopping list: rice, butter, soup. ", "Got: butter, soup. Missing:")};
}

torch::Tensor ids_tensor(const std::vector<int32_t>& ids) {
    return torch::tensor(std::vector<int64_t>(ids.begin(), ids.end()), torch::kLong).unsqueeze(0);
}

}  // namespace

TEST_CASE("context_sensitivity equals the divergence of the heads' hook_result at the last token",
          "[context_sensitivity]") {
    LoadedModel m = tiny_world_f64();
    const std::vector<TokenizedPrompt> prompts = tokenize_prompts(*m.tokenizer, examples());
    const Result r = run_builtin("context_sensitivity", m, prompts);
    const HeadGrid& abs = grid(r, "divergence");
    const HeadGrid& rel = grid(r, "relative_divergence");
    const ModelConfig& c = m.model->config();

    // Independent: the model's own per-head outputs (blocks.L.attn.hook_result), last positions.
    torch::Tensor sum_abs = torch::zeros({c.n_layers, c.n_heads}, torch::kDouble), sum_rel = sum_abs.clone();
    for (const auto& p : prompts) {
        const auto with = m.model->run_with_cache(ids_tensor(p.ids), {"blocks.*.attn.hook_result"});
        const auto without = m.model->run_with_cache(
            ids_tensor(m.tokenizer->encode(p.example.prompt_without_context(), true).ids), {"blocks.*.attn.hook_result"});
        for (int l = 0; l < c.n_layers; ++l) {
            const torch::Tensor a = with.cache.at(HookSite::attn_result, l)[0][-1];     // [H, d_model]
            const torch::Tensor b = without.cache.at(HookSite::attn_result, l)[0][-1];
            sum_abs[l] += (a - b).norm(2, {1});
            sum_rel[l] += (a - b).norm(2, {1}) / a.norm(2, {1});
        }
    }
    const double n = static_cast<double>(prompts.size());
    for (int l = 0; l < c.n_layers; ++l)
        for (int h = 0; h < c.n_heads; ++h) {
            INFO("L" << l << "H" << h);
            CHECK(abs.at(l, h) == Approx(sum_abs[l][h].item<double>() / n).epsilon(1e-9));
            CHECK(rel.at(l, h) == Approx(sum_rel[l][h].item<double>() / n).epsilon(1e-9));
        }
    // The context changes the answer: some head in the last layer must move.
    double top = 0;
    for (int h = 0; h < c.n_heads; ++h) top = std::max(top, rel.at(c.n_layers - 1, h));
    CHECK(top > 0.05);
    CHECK(table(r, "per_prompt").rows.size() == prompts.size());
}

TEST_CASE("context_sensitivity is zero for a head that cannot see the context", "[context_sensitivity]") {
    LoadedModel m = tiny_world_f64();
    const std::vector<TokenizedPrompt> prompts = tokenize_prompts(*m.tokenizer, examples());
    // Plant L0H2 attending only to its own position: in layer 0 of a rotary model the value of a
    // token depends on the token alone, so the context cannot reach the head's output.
    auto plant = [&] {
        return m.model->add_hook("blocks.0.attn.hook_pattern", [](const at::Tensor& p, const HookPoint&) {
            torch::Tensor out = p.clone();
            out.select(1, 2).copy_(torch::eye(p.size(2), p.options()).expand({p.size(0), p.size(2), p.size(3)}));
            return std::optional<at::Tensor>(out);
        });
    };
    for (const char* positions : {"last", "query"}) {
        INFO("positions=" << positions);
        HookHandle blind = plant();  // run_analysis removes every hook when it finishes
        const Result r = run_builtin("context_sensitivity", m, prompts, {{"positions", positions}});
        const HeadGrid& abs = grid(r, "divergence");
        const HeadGrid& rel = grid(r, "relative_divergence");
        CHECK(abs.at(0, 2) < 1e-12);
        CHECK(rel.at(0, 2) < 1e-12);
        // The other layer-0 heads see the context (and BOS at another distance).
        for (int h : {0, 1, 3}) CHECK(rel.at(0, h) > 1e-3);
    }
    // Without the planted edit the same head does see the context.
    const Result plain = run_builtin("context_sensitivity", m, prompts);
    CHECK(grid(plain, "relative_divergence").at(0, 2) > 1e-3);
}

TEST_CASE("context_sensitivity refuses prompts without a context", "[context_sensitivity]") {
    LoadedModel m = load_model(source_dir() + "/data/models/tiny-world");
    const std::vector<TokenizedPrompt> prompts =
        tokenize_prompts(*m.tokenizer, {PromptExample{"", "The capital of Xerath is", "", "", ""}});
    const Result r = run_analysis(builtin_registry(), {"context_sensitivity", {}}, *m.model, *m.tokenizer, prompts,
                                  *std::make_unique<Progress>());
    CHECK_THAT(r.error, Catch::Contains("has a usable context segment"));
}

TEST_CASE("prompt sets carry a context as a field or a marked span", "[context_sensitivity][prompts]") {
    TempDir tmp;
    write_file(tmp.file("a.jsonl"),
               "{\"prompt\": \"The capital of X is\", \"context\": \"The capital of X is Y. \"}\n"
               "{\"prompt\": \"Note: <context>X is Y.</context> So X is\"}\n"
               "{\"prompt\": \"plain\"}\n");
    const std::vector<PromptExample> e = load_prompt_set(tmp.file("a.jsonl"));
    REQUIRE(e.size() == 3);
    CHECK(e[0].prompt == "The capital of X is Y. The capital of X is");
    CHECK(e[0].prompt_without_context() == "The capital of X is");
    CHECK(e[1].prompt == "Note: X is Y. So X is");
    CHECK(e[1].context == "X is Y.");
    CHECK(e[1].prompt_without_context() == "Note:  So X is");
    CHECK_FALSE(e[2].has_context());
    CHECK(e[2].prompt_without_context() == "plain");

    write_file(tmp.file("b.jsonl"), "{\"prompt\": \"a <context>b\"}\n");
    CHECK_THROWS_WITH(load_prompt_set(tmp.file("b.jsonl")), Catch::Contains("line 1") && Catch::Contains("<context>"));
    write_file(tmp.file("c.jsonl"), "{\"prompt\": \"<context>b</context>\", \"context\": \"c\"}\n");
    CHECK_THROWS_WITH(load_prompt_set(tmp.file("c.jsonl")), Catch::Contains("not both"));

    // The shipped set loads and every line has a context.
    for (const auto& p : load_prompt_set(source_dir() + "/data/prompts/capitals_context.jsonl")) CHECK(p.has_context());
}
