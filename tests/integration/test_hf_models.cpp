// Hugging Face checkpoints of every supported family, written by the independent Python
// reference (tests/reference/hf_reference.py) in real HF layout, against its forward pass.
#include <torch/torch.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <map>
#include <regex>

#include "headscope/error.hpp"
#include "headscope/model_loader.hpp"
#include "support/reference.hpp"
#include "support/test_support.hpp"

using namespace headscope;
using namespace headscope::test;

namespace {

struct Case {
    const char* family;
    std::vector<std::string> flags;
    const char* what;
};

void check_parity(const std::string& dir, int layer, const char* script = "hf_reference.py",
                  const LoadOptions& options = {}) {
    torch::NoGradGuard no_grad;
    LoadedModel m = load_model(dir, options);
    std::vector<int32_t> ids{5, 17, 300, 2, 99, 99, 421, 7, 64, 250, 13, 500};
    torch::Tensor tokens = torch::tensor(std::vector<int64_t>(ids.begin(), ids.end()), torch::kLong).unsqueeze(0);
    const std::string pattern_name = hook_name("pattern", layer);
    CachedRun run = m.model->run_with_cache(tokens, {pattern_name});
    std::string ref = run_reference(script, {"logits", dir, ids_json(ids), "--layer", std::to_string(layer)});
    torch::Tensor ref_logits = json_matrix(ref, "logits");
    auto pat = nlohmann::json::parse(ref).at("pattern");
    std::vector<double> flat;
    for (const auto& head : pat)
        for (const auto& row : head)
            for (const auto& v : row) flat.push_back(v.get<double>());
    torch::Tensor ref_pattern = torch::tensor(flat, torch::kFloat64).view(run.cache.at(pattern_name).squeeze(0).sizes());
    CHECK((run.logits.squeeze(0).to(torch::kFloat64) - ref_logits).abs().max().item<double>() < 1e-4);
    CHECK((run.cache.at(pattern_name).squeeze(0).to(torch::kFloat64) - ref_pattern).abs().max().item<double>() < 1e-4);
}

}  // namespace

TEST_CASE("HF checkpoints of every family match the independent PyTorch reference", "[hf][reference]") {
    const std::vector<Case> cases{
        {"gpt2", {}, "GPT-2: LayerNorm, learned positions, GELU-new, Conv1D, fused c_attn"},
        {"gpt_neox", {}, "Pythia: parallel residual, partial rotary 0.25, interleaved fused qkv"},
        {"gpt_neox", {"--no-parallel"}, "NeoX with use_parallel_residual false"},
        {"llama", {}, "Llama: RMSNorm, rotate-half rotary, untied"},
        {"llama", {"--gqa", "--tied"}, "Llama with GQA (8 query / 2 kv heads) and tied embeddings"},
        {"qwen2", {"--gqa", "--bias", "--tied"}, "Qwen2: q/k/v biases, GQA, tied, rope_theta 5e5"},
        {"mistral", {"--gqa", "--shards", "3"}, "Mistral, sharded in 3 files with an index"},
        {"llama", {"--gqa", "--dtype", "F16"}, "Llama stored in float16"},
        {"gpt2", {"--dtype", "BF16", "--shards", "2"}, "GPT-2 stored in bfloat16, sharded"},
    };
    for (const Case& c : cases) {
        SECTION(c.what) {
            TempDir tmp;
            const std::string dir = tmp.file("model");
            std::vector<std::string> args{"write", c.family, dir, "--seed", "3"};
            args.insert(args.end(), c.flags.begin(), c.flags.end());
            run_reference("hf_reference.py", args);
            check_parity(dir, 1);
        }
    }
}

TEST_CASE("today's HF decoders match the independent PyTorch reference", "[hf][reference][decoders]") {
    // Each variant: GQA (4 query / 2 kv heads), 3 layers, a 12-token prompt; windows of 4-6 tokens
    // and soft caps small enough to change the result (see hf_decoder_reference.py).
    const char* variants[] = {"llama3", "llama-linear", "llama-dynamic", "llama-yarn", "mistral", "qwen2", "qwen3",
                              "gemma", "gemma2", "gemma3_text", "phi3", "olmo2"};
    for (const char* v : variants) {
        for (int layer : {0, 1}) {
            DYNAMIC_SECTION(v << " layer " << layer) {
                TempDir tmp;
                const std::string dir = tmp.file("model");
                run_reference("hf_decoder_reference.py", {"write", v, dir, "--seed", "3"});
                check_parity(dir, layer, "hf_decoder_reference.py");
            }
        }
    }
}

TEST_CASE("every family's hook list is what its forward calls: each listed hook fires once", "[hf][hooks][decoders]") {
    // The hook list (hook_points_of) is declared apart from the forward; this keeps the two
    // from drifting for every block recipe: pre / post / pre+post norms, q/k norms, parallel
    // residual, learned positions.
    torch::NoGradGuard no_grad;
    struct Variant {
        const char* script;
        const char* name;
    };
    const Variant variants[] = {{"hf_decoder_reference.py", "llama3"}, {"hf_decoder_reference.py", "qwen3"},
                                {"hf_decoder_reference.py", "gemma"},  {"hf_decoder_reference.py", "gemma2"},
                                {"hf_decoder_reference.py", "gemma3_text"}, {"hf_decoder_reference.py", "phi3"},
                                {"hf_decoder_reference.py", "olmo2"},  {"hf_reference.py", "gpt2"},
                                {"hf_reference.py", "gpt_neox"}};
    for (const Variant& v : variants) {
        DYNAMIC_SECTION(v.name) {
            TempDir tmp;
            const std::string dir = tmp.file("model");
            run_reference(v.script, {"write", v.name, dir, "--seed", "3"});
            LoadedModel m = load_model(dir);
            std::map<std::string, int> fired;
            HookHandle h = m.model->add_hook("*", [&](const at::Tensor&, const HookPoint& p) -> std::optional<at::Tensor> {
                ++fired[p.name];
                return std::nullopt;
            });
            m.model->forward(torch::tensor(std::vector<int64_t>{5, 17, 300, 2, 99, 7}, torch::kLong).unsqueeze(0));
            const auto& listed = m.model->hook_points();
            REQUIRE(!listed.empty());
            for (const HookPoint& p : listed) {
                INFO(p.name);
                CHECK(fired[p.name] == 1);
            }
            CHECK(fired.size() == listed.size());
        }
    }
}

TEST_CASE("today's HF decoders stored in bfloat16 match the reference with streamed weights", "[hf][reference][decoders]") {
    // The families with per-layer q/k norms and output norms, read as views of a sharded bf16
    // file and materialized one layer at a time (the reference runs on the same bf16 values).
    for (const char* v : {"qwen3", "gemma", "gemma2", "gemma3_text", "phi3", "olmo2"}) {
        DYNAMIC_SECTION(v) {
            TempDir tmp;
            const std::string dir = tmp.file("model");
            run_reference("hf_decoder_reference.py", {"write", v, dir, "--seed", "5", "--dtype", "BF16", "--shards", "2"});
            LoadOptions o;
            o.compute.residency = WeightResidency::streamed;
            check_parity(dir, 0, "hf_decoder_reference.py", o);
            LoadedModel m = load_model(dir, o);
            CHECK(m.model->residency() == WeightResidency::streamed);
            const LayerWeights& L = m.model->weights().layers[0];
            CHECK(L.W_Q.scalar_type() == torch::kBFloat16);  // kept as stored: a view, not a copy
            CHECK(L.W_gate.scalar_type() == torch::kBFloat16);
            if (std::string(v) == "qwen3" || std::string(v) == "olmo2") CHECK(L.q_norm_w.scalar_type() == torch::kBFloat16);
            // Gemma's norms hold 1 + w, computed once in float32.
            if (std::string(v).rfind("gemma", 0) == 0) CHECK(L.ln1_w.scalar_type() == torch::kFloat32);
        }
    }
}

TEST_CASE("broken checkpoints of today's HF decoders give clear errors", "[hf][errors][decoders]") {
    TempDir tmp;
    SECTION("unknown model_type names itself and the supported types") {
        const std::string dir = tmp.file("model");
        run_reference("hf_decoder_reference.py", {"write", "gemma2", dir});
        const std::string config = read_file(dir + "/config.json");
        write_file(dir + "/config.json", std::regex_replace(config, std::regex("\"gemma2\""), "\"gemma9\""));
        CHECK_THROWS_WITH(load_model(dir), Catch::Contains("gemma9") && Catch::Contains("gemma3_text") &&
                                               Catch::Contains("olmo2") && Catch::Contains("qwen3"));
    }
    SECTION("a missing post-norm is named") {
        const std::string dir = tmp.file("model");
        run_reference("hf_decoder_reference.py",
                      {"write", "gemma2", dir, "--drop", "model.layers.1.post_feedforward_layernorm.weight"});
        CHECK_THROWS_WITH(load_model(dir), Catch::Contains("missing tensor") &&
                                               Catch::Contains("model.layers.1.post_feedforward_layernorm.weight"));
    }
    SECTION("a missing q norm is named") {
        const std::string dir = tmp.file("model");
        run_reference("hf_decoder_reference.py", {"write", "qwen3", dir, "--drop", "model.layers.2.self_attn.k_norm.weight"});
        CHECK_THROWS_WITH(load_model(dir), Catch::Contains("model.layers.2.self_attn.k_norm.weight") &&
                                               Catch::Contains("expected shape [24]"));
    }
    SECTION("a mis-shaped q norm is named with both shapes") {
        // A Qwen-3 checkpoint (per-head q norm [24]) read as OLMo-2 (full-width [4 * 24]).
        const std::string dir = tmp.file("model");
        run_reference("hf_decoder_reference.py", {"write", "qwen3", dir});
        std::string config = read_file(dir + "/config.json");
        config = std::regex_replace(config, std::regex("\"qwen3\""), "\"olmo2\"");
        write_file(dir + "/config.json", config);
        // OLMo-2 has no input norms: its first norm read is q_norm.
        CHECK_THROWS_WITH(load_model(dir), Catch::Contains("model.layers.0.self_attn.q_norm.weight") &&
                                               Catch::Contains("[24]") && Catch::Contains("expected [96]"));
    }
    SECTION("a bad rope_scaling is refused with the supported kinds") {
        const std::string dir = tmp.file("model");
        run_reference("hf_decoder_reference.py", {"write", "llama3", dir});
        const std::string config = read_file(dir + "/config.json");
        write_file(dir + "/config.json", std::regex_replace(config, std::regex("\"llama3\""), "\"ntk-by-parts\""));
        CHECK_THROWS_WITH(load_model(dir), Catch::Contains("ntk-by-parts") && Catch::Contains("yarn"));
    }
}

TEST_CASE("stories260K converted to HF layout gives the llama2.c file's logits", "[hf][stories]") {
    torch::NoGradGuard no_grad;
    TempDir tmp;
    const std::string dir = tmp.file("stories-hf");
    run_reference("hf_reference.py", {"from-llama2c", stories_bin(), dir});
    LoadedModel hf = load_model(dir);
    CHECK(hf.model->config().rotary_style == RotaryStyle::half);
    LoadOptions o;
    o.tokenizer_path = stories_tokenizer();
    LoadedModel bin = load_model(stories_bin(), o);
    auto ids = bin.tokenizer->encode("Once upon a time, there was a big dog named Max.", true).ids;
    torch::Tensor tokens = torch::tensor(std::vector<int64_t>(ids.begin(), ids.end()), torch::kLong).unsqueeze(0);
    torch::Tensor a = hf.model->forward(tokens), b = bin.model->forward(tokens);
    CHECK((a - b).abs().max().item<float>() < 1e-4f);
    // The rotary layouts differ, so the raw q vectors differ by the permutation while the
    // attention patterns agree.
    auto ca = hf.model->run_with_cache(tokens, {"blocks.2.attn.hook_pattern"});
    auto cb = bin.model->run_with_cache(tokens, {"blocks.2.attn.hook_pattern"});
    CHECK((ca.cache.at("blocks.2.attn.hook_pattern") - cb.cache.at("blocks.2.attn.hook_pattern")).abs().max().item<float>() < 1e-5f);
}

TEST_CASE("HF directories with missing or mis-shaped tensors give clear errors", "[hf][errors]") {
    TempDir tmp;
    const std::string dir = tmp.file("model");
    run_reference("hf_reference.py", {"write", "llama", dir, "--gqa"});
    // Unsupported model type.
    std::string config = read_file(dir + "/config.json");
    write_file(dir + "/config.json", std::regex_replace(config, std::regex("\"llama\""), "\"bloom\""));
    CHECK_THROWS_WITH(load_model(dir), Catch::Contains("bloom") && Catch::Contains("llama"));
    // More layers than the checkpoint holds: the missing tensor is named.
    write_file(dir + "/config.json", std::regex_replace(config, std::regex("\"num_hidden_layers\": 2"), "\"num_hidden_layers\": 3"));
    CHECK_THROWS_WITH(load_model(dir), Catch::Contains("model.layers.2.input_layernorm.weight"));
    // Wrong width: a mis-shaped tensor is named with both shapes.
    write_file(dir + "/config.json", std::regex_replace(config, std::regex("\"intermediate_size\": 96"), "\"intermediate_size\": 100"));
    CHECK_THROWS_WITH(load_model(dir), Catch::Contains("mlp.gate_proj.weight") && Catch::Contains("expected [100, 64]"));
}
