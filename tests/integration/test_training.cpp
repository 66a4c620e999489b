// headscope train: short runs of each recipe learn and are reproducible; the exported Hugging
// Face directory is exact (round trip, and the independent PyTorch reference of HF Llama).
#include <torch/torch.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <numeric>

#include "headscope/bpe_trainer.hpp"
#include "headscope/model_loader.hpp"
#include "headscope/training.hpp"
#include "support/reference.hpp"
#include "support/test_support.hpp"

using namespace headscope;
using namespace headscope::test;

namespace {
double mean(const std::vector<double>& v, size_t begin, size_t end) {
    return std::accumulate(v.begin() + static_cast<long>(begin), v.begin() + static_cast<long>(end), 0.0) /
           static_cast<double>(end - begin);
}

TrainResult tiny_run(const std::string& recipe, const std::string& out, uint64_t seed, int64_t steps, int eval = 0) {
    TrainOptions o;
    o.recipe = recipe;
    o.out_dir = out;
    o.steps = steps;
    o.seed = seed;
    o.tiny = true;
    o.eval_prompts = eval;
    return train_recipe(o);
}
}  // namespace

TEST_CASE("Short training runs of every recipe lower the loss and are deterministic", "[training]") {
    TempDir dir;
    for (const std::string recipe : {"induction-2l", "tiny-world"}) {
        SECTION(recipe) {
            TrainResult a = tiny_run(recipe, dir.file(recipe + "-a"), 3, 40, recipe == "tiny-world" ? 10 : 0);
            REQUIRE(a.losses.size() == 40);
            const double vocab = static_cast<double>(a.config.d_vocab);
            // Starts near uniform over the vocabulary, then falls clearly.
            CHECK(a.losses.front() == Approx(std::log(vocab)).margin(0.3));
            CHECK(mean(a.losses, 35, 40) < mean(a.losses, 0, 5) - 0.5);
            TrainResult b = tiny_run(recipe, dir.file(recipe + "-b"), 3, 40);
            CHECK(a.losses == b.losses);
            TrainResult c = tiny_run(recipe, dir.file(recipe + "-c"), 4, 40);
            CHECK(a.losses != c.losses);
            CHECK(read_file(dir.file(recipe + "-a/model.safetensors")) == read_file(dir.file(recipe + "-b/model.safetensors")));

            // A complete Hugging Face directory, and no temporary left behind.
            for (const char* f : {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                                  "training_log.csv", "README.md"})
                CHECK(std::filesystem::exists(dir.file(recipe + "-a/") + f));
            CHECK_FALSE(std::filesystem::exists(dir.file(recipe + "-a.tmp")));
            const std::string csv = read_file(dir.file(recipe + "-a/training_log.csv"));
            CHECK(csv.rfind("step,loss,lr,tokens_per_s\n", 0) == 0);
            CHECK(std::count(csv.begin(), csv.end(), '\n') == 41);
            auto config = nlohmann::json::parse(read_file(dir.file(recipe + "-a/config.json")));
            CHECK(config["model_type"] == "llama");
            CHECK(config["architectures"][0] == "LlamaForCausalLM");
            LoadedModel m = load_model(dir.file(recipe + "-a"));
            CHECK(m.model->config().d_vocab == a.config.d_vocab);
            CHECK(m.tokenizer->piece(m.tokenizer->bos_id()) == "<|bos|>");
            if (recipe == "induction-2l") {
                // Attention-only: every MLP weight is exactly zero.
                for (const auto& L : m.model->weights().layers) CHECK(L.W_out.abs().max().item<float>() == 0.0f);
            } else {
                CHECK(m.model->config().n_kv_heads < m.model->config().n_heads);
                REQUIRE(a.scores.size() == 5);
                const std::string readme = read_file(dir.file(recipe + "-a/README.md"));
                CHECK(readme.find("| ioi | 10 |") != std::string::npos);
                CHECK(readme.find("--seed 3") != std::string::npos);
            }
        }
    }
}

TEST_CASE("The tutorial tokenizer makes every world word one token", "[training]") {
    TempDir dir;
    tiny_run("tiny-world", dir.file("m"), 1, 2);
    std::unique_ptr<Tokenizer> tok = load_hf_tokenizer(dir.file("m"));
    for (const char* w : {" Mary", " John", " milk", " Ostmark", " Veldra", " eggs", " Paris", " need"}) {
        INFO(w);
        auto ids = tok->encode(w, false).ids;
        REQUIRE(ids.size() == 1);
        CHECK(tok->token_text(ids[0]) == w);
    }
    const std::string s = "The capital of Veldra is Ostmark. The capital of Veldra is";
    auto e = tok->encode(s, true);
    CHECK(e.ids.size() == 1 + 12);
    REQUIRE(e.ids[0] == tok->bos_id());
    // Like Hugging Face's decode without skip_special_tokens, BOS decodes as its text.
    CHECK(tok->decode(e.ids) == "<|bos|>" + s);
    CHECK(tok->decode(std::vector<int32_t>(e.ids.begin() + 1, e.ids.end())) == s);
}

TEST_CASE("save_hf_llama round-trips exactly and matches the independent HF Llama reference", "[training]") {
    torch::manual_seed(0);
    ModelConfig c;
    c.model_type = "llama";
    c.n_layers = 2;
    c.d_model = 64;
    c.n_heads = 8;
    c.n_kv_heads = 4;
    c.d_head = 8;
    c.d_mlp = 96;
    c.d_vocab = 1 + 256 + 3;
    c.n_ctx = 64;
    c.norm_eps = 1e-5;
    c.rotary_dim = 8;
    c.rotary_style = RotaryStyle::half;
    c.bos_token_id = 0;
    c.eos_token_id = 0;
    ModelWeights w;
    auto r = [](std::vector<int64_t> s) { return torch::randn(s) * 0.3; };
    w.W_E = r({c.d_vocab, 64});
    for (int l = 0; l < 2; ++l) {
        LayerWeights L;
        L.ln1_w = 1 + r({64});
        L.W_Q = r({8, 64, 8});
        L.W_K = r({4, 64, 8});
        L.W_V = r({4, 64, 8});
        L.W_O = r({8, 8, 64});
        L.ln2_w = 1 + r({64});
        L.W_gate = r({64, 96});
        L.W_in = r({64, 96});
        L.W_out = r({96, 64});
        w.layers.push_back(L);
    }
    w.ln_final_w = 1 + r({64});
    w.W_U = r({64, c.d_vocab});
    HookedTransformer original(c, w);

    TempDir dir;
    save_hf_llama(dir.path(), c, w);
    BpeTrainer t;
    t.add_text("abc abd abc");
    write_hf_tokenizer(dir.path(), t.train());
    LoadedModel loaded = load_model(dir.path());
    std::vector<int32_t> ids{0, 17, 200, 3, 99, 259, 42, 42, 7};
    torch::Tensor tokens = torch::tensor(std::vector<int64_t>(ids.begin(), ids.end()), torch::kLong).unsqueeze(0);
    torch::NoGradGuard g;
    // Exact: every weight comes back bit for bit.
    for (int l = 0; l < 2; ++l) {
        const LayerWeights x = original.layer_weights(l), y = loaded.model->layer_weights(l);
        CHECK(torch::equal(x.ln1_w, y.ln1_w));
        CHECK(torch::equal(x.W_Q, y.W_Q));
        CHECK(torch::equal(x.W_K, y.W_K));
        CHECK(torch::equal(x.W_V, y.W_V));
        CHECK(torch::equal(x.W_O, y.W_O));
        CHECK(torch::equal(x.ln2_w, y.ln2_w));
        CHECK(torch::equal(x.W_gate, y.W_gate));
        CHECK(torch::equal(x.W_in, y.W_in));
        CHECK(torch::equal(x.W_out, y.W_out));
    }
    CHECK(torch::equal(original.weights().W_E, loaded.model->weights().W_E));
    CHECK(torch::equal(original.weights().W_U, loaded.model->weights().W_U));
    CHECK(torch::equal(original.weights().ln_final_w, loaded.model->weights().ln_final_w));
    // The logits agree to float32 GEMM rounding: the two models pack their matrices differently,
    // and OpenBLAS's AVX-512 kernels round differently by matrix shape.
    torch::Tensor a = original.forward(tokens), b = loaded.model->forward(tokens);
    INFO("max |original - loaded| = " << (a - b).abs().max().item<double>());
    CHECK((a - b).abs().max().item<double>() < 1e-5 * std::max(1.0, a.abs().max().item<double>()));
    // Independent: the Python reference reads the directory as Hugging Face would.
    torch::Tensor ref = json_matrix(run_reference("hf_reference.py", {"logits", dir.path(), ids_json(ids)}), "logits");
    CHECK((b.squeeze(0).to(torch::kDouble) - ref).abs().max().item<double>() < 1e-4);
}
