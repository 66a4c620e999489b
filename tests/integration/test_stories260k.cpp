// stories260K (a real pretrained Llama-architecture model) through headscope, checked against
// an independent numpy implementation of llama2.c (tests/reference/llama2c_reference.py).
#include <torch/torch.h>

#include <catch2/catch.hpp>

#include "headscope/error.hpp"
#include "headscope/generation.hpp"
#include "headscope/model_loader.hpp"
#include "support/reference.hpp"
#include "support/test_support.hpp"

using namespace headscope;
using namespace headscope::test;

namespace {

LoadedModel stories_llama2c() {
    LoadOptions o;
    o.tokenizer_path = stories_tokenizer();
    return load_model(stories_bin(), o);
}

torch::Tensor to_tokens(const std::vector<int32_t>& ids) {
    return torch::tensor(std::vector<int64_t>(ids.begin(), ids.end()), torch::kLong).unsqueeze(0);
}

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
    return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

const char* kPrompt = "Once upon a time, there was a little girl named Lily. She loved to play";

}  // namespace

TEST_CASE("stories260K loads from llama2.c and GGUF with the published shape", "[model][stories]") {
    LoadedModel bin = stories_llama2c();
    LoadedModel gguf = load_model(stories_gguf());
    for (const LoadedModel* m : {&bin, &gguf}) {
        const ModelConfig& c = m->model->config();
        CHECK(c.d_model == 64);
        CHECK(c.n_layers == 5);
        CHECK(c.n_heads == 8);
        CHECK(c.n_kv_heads == 4);
        CHECK(c.d_mlp == 172);
        CHECK(c.d_vocab == 512);
        CHECK(c.n_ctx == 512);
    }
    // llama2.c shares the classifier with the embedding; the GGUF conversion stores output.weight
    // separately (with the same values).
    CHECK(bin.model->config().tied_embeddings);
    CHECK_FALSE(gguf.model->config().tied_embeddings);
    CHECK(torch::equal(gguf.model->weights().W_U, bin.model->weights().W_U));
    CHECK(bin.format == ModelFormat::llama2c);
    CHECK(gguf.format == ModelFormat::gguf);
}

TEST_CASE("llama2.c and GGUF give the same tokens and logits", "[model][stories]") {
    torch::NoGradGuard no_grad;
    LoadedModel bin = stories_llama2c();
    LoadedModel gguf = load_model(stories_gguf());
    Encoding a = bin.tokenizer->encode(kPrompt, true);
    Encoding b = gguf.tokenizer->encode(kPrompt, true);
    REQUIRE(a.ids == b.ids);
    torch::Tensor la = bin.model->forward(to_tokens(a.ids));
    torch::Tensor lb = gguf.model->forward(to_tokens(b.ids));
    CHECK(max_abs_diff(la, lb) < 1e-4);
}

TEST_CASE("logits match the independent numpy reference", "[model][stories][reference]") {
    torch::NoGradGuard no_grad;
    LoadedModel m = stories_llama2c();
    std::vector<int32_t> ids = m.tokenizer->encode(kPrompt, true).ids;
    torch::Tensor ours = m.model->forward(to_tokens(ids)).squeeze(0);
    torch::Tensor ref = json_matrix(run_reference("llama2c_reference.py", {stories_bin(), "logits", ids_json(ids)}), "logits");
    REQUIRE(ours.sizes() == ref.sizes());
    CHECK(max_abs_diff(ours, ref) < 1e-4);
}

TEST_CASE("greedy generation from BOS reproduces the reference's first 60 tokens", "[model][stories][reference]") {
    LoadedModel m = stories_llama2c();
    std::vector<int64_t> expected =
        json_ints(run_reference("llama2c_reference.py", {stories_bin(), "greedy", "60"}), "ids");
    REQUIRE(expected.size() == 60);
    GenerateOptions opts;
    opts.max_tokens = 60;
    std::vector<int32_t> ours = generate(*m.model, {m.tokenizer->bos_id()}, opts);
    CHECK(std::vector<int64_t>(ours.begin(), ours.end()) == expected);
    // A TinyStories model tells a story: the text is English words, not noise.
    std::string text = m.tokenizer->decode(ours);
    INFO(text);
    CHECK(text.find(" the ") != std::string::npos);
}

TEST_CASE("sampling is deterministic for a seed and differs across seeds", "[model][stories]") {
    LoadedModel m = stories_llama2c();
    GenerateOptions opts;
    opts.max_tokens = 30;
    opts.temperature = 1.0;
    opts.stop_at_eos = false;
    opts.seed = 7;
    auto a = generate(*m.model, {1}, opts);
    auto b = generate(*m.model, {1}, opts);
    opts.seed = 8;
    auto c = generate(*m.model, {1}, opts);
    CHECK(a == b);
    CHECK(a != c);
}

TEST_CASE("forward rejects bad token batches with clear errors", "[model][errors]") {
    LoadedModel m = stories_llama2c();
    CHECK_THROWS_AS(m.model->forward(torch::zeros({1, 0}, torch::kLong)), UsageError);
    CHECK_THROWS_WITH(m.model->forward(torch::tensor({1, 600}, torch::kLong)), Catch::Contains("outside the vocabulary"));
    CHECK_THROWS_WITH(m.model->forward(torch::ones({1, 513}, torch::kLong)), Catch::Contains("exceed"));
    CHECK_THROWS_AS(m.model->forward(torch::ones({1, 2, 3}, torch::kLong)), UsageError);
}
