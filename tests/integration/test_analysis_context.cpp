// AnalysisContext::prefetch_clean_runs against clean_run one prompt at a time: the same logits and
// cached activations for prompts of mixed lengths, on stories260K (a real pretrained model).
#include <torch/torch.h>

#include <catch2/catch.hpp>

#include "headscope/error.hpp"
#include "headscope/hook_names.hpp"
#include "headscope/model_loader.hpp"
#include "headscope/sdk/analysis_runner.hpp"
#include "support/test_support.hpp"

using namespace headscope;
using namespace headscope::test;

namespace {
// The largest difference relative to the tensor's scale: a batched GEMM may round differently
// from a single prompt's (float32: a few ulps).
double max_diff(const at::Tensor& a, const at::Tensor& b) {
    REQUIRE(a.sizes() == b.sizes());
    const double scale = 1.0 + a.abs().max().item<double>();
    return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>() / scale;
}

struct Cancelling : Progress {
    bool cancelled() const override { return true; }
};
}  // namespace

TEST_CASE("prefetch_clean_runs batches equal-length prompts and gives clean_run's runs", "[sdk][context]") {
    LoadOptions o;
    o.tokenizer_path = stories_tokenizer();
    LoadedModel m = load_model(stories_bin(), o);
    // Two lengths (three prompts of one, two of the other) and a prompt given twice.
    std::vector<PromptExample> ex{{"a", "Once upon a time there was a cat"},
                                  {"b", "The little dog ran to the park"},
                                  {"c", "Lily and Tom went to the shop and bought a big red ball"},
                                  {"d", "One day a girl named Sue found a shiny stone"},
                                  {"e", "The sun was warm and the birds sang in the trees"}};
    const std::vector<TokenizedPrompt> prompts = tokenize_prompts(*m.tokenizer, ex);
    std::map<size_t, int> lengths;
    for (const auto& p : prompts) ++lengths[p.ids.size()];
    INFO("prompt lengths: " << prompts[0].ids.size() << " " << prompts[1].ids.size() << " " << prompts[2].ids.size()
                            << " " << prompts[3].ids.size() << " " << prompts[4].ids.size());
    bool some_batch = false;
    for (const auto& [T, n] : lengths) some_batch |= n > 1;
    REQUIRE(some_batch);  // at least one batched forward

    const std::vector<std::string> hooks{"blocks.*.attn.hook_z", "blocks.*.attn.hook_pattern", "blocks.*.hook_resid_post"};
    Progress quiet;
    AnalysisContext one(*m.model, *m.tokenizer, prompts, {}, quiet, hooks);
    AnalysisContext batched(*m.model, *m.tokenizer, prompts, {}, quiet, hooks);
    batched.prefetch_clean_runs({4, 0, 1, 2, 3, 0});
    for (size_t i = 0; i < prompts.size(); ++i) {
        const CachedRun& a = one.clean_run(i);
        const CachedRun& b = batched.clean_run(i);
        CHECK(b.logits.size(0) == 1);
        CHECK(max_diff(a.logits, b.logits) < 2e-6);
        REQUIRE(a.cache.names() == b.cache.names());
        for (const std::string& name : a.cache.names()) {
            INFO(name << " of prompt " << i);
            CHECK(max_diff(a.cache.at(name), b.cache.at(name)) < 5e-6);  // float32 GEMM rounding by batch shape
        }
    }
    // Already computed runs are kept: the same object afterwards.
    const CachedRun* first = &batched.clean_run(0);
    batched.prefetch_clean_runs({0, 1});
    CHECK(&batched.clean_run(0) == first);

    // Next-token logits only: the final position's row of the full run, and nothing else unembedded.
    AnalysisContext last(*m.model, *m.tokenizer, prompts, {}, quiet, hooks);
    last.final_position_logits_only();
    last.prefetch_clean_runs({0, 1, 2, 3, 4});
    for (size_t i = 0; i < prompts.size(); ++i) {
        const at::Tensor& full = one.clean_run(i).logits;
        const at::Tensor& next = last.clean_run(i).logits;
        REQUIRE(next.sizes() == std::vector<int64_t>{1, 1, full.size(2)});
        CHECK(max_diff(full.narrow(1, full.size(1) - 1, 1), next) < 2e-6);
        CHECK(max_diff(one.clean_run(i).cache.at(hook_name(HookKey{HookSite::attn_z, 1})),
                       last.clean_run(i).cache.at(hook_name(HookKey{HookSite::attn_z, 1}))) < 2e-6);
    }
    CHECK_THROWS_AS(last.final_position_logits_only(), UsageError);  // runs already computed

    Cancelling cancel;
    AnalysisContext stopped(*m.model, *m.tokenizer, prompts, {}, cancel, hooks);
    CHECK_THROWS_AS(stopped.prefetch_clean_runs({0, 1, 2}), Cancelled);
}
