// GGUF files of the non-llama families, written by tests/tools/gguf_from_hf.py (llama.cpp's
// layout, from the GGUF specification) from the same weights as a small HF checkpoint of the
// independent references, against that checkpoint's logits.
#include <torch/torch.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <regex>

#include "headscope/error.hpp"
#include "headscope/hook_names.hpp"
#include "headscope/model_loader.hpp"
#include "support/reference.hpp"
#include "support/test_support.hpp"

using namespace headscope;
using namespace headscope::test;

namespace {

struct Family {
    const char* script;   // the reference that writes the HF checkpoint
    const char* variant;
    const char* arch;     // general.architecture of the converted file
};

const Family kFamilies[] = {
    {"hf_decoder_reference.py", "gemma", "gemma"},
    {"hf_decoder_reference.py", "gemma2-gguf", "gemma2"},
    {"hf_decoder_reference.py", "gemma3-gguf", "gemma3"},
    {"hf_decoder_reference.py", "qwen2-full", "qwen2"},
    {"hf_decoder_reference.py", "qwen3-full", "qwen3"},
    {"hf_decoder_reference.py", "phi3-plain", "phi3"},
    {"hf_decoder_reference.py", "phi3", "phi3"},  // longrope factors as tensors, a sliding window
    {"hf_decoder_reference.py", "llama31-gguf", "llama"},  // llama3 scaling as rope_freqs.weight
    {"hf_moe_reference.py", "mixtral", "llama"},
    {"hf_decoder_reference.py", "olmo2", "olmo2"},
    {"hf_moe_reference.py", "qwen3_moe", "qwen3moe"},
    {"hf_moe_reference.py", "olmoe", "olmoe"},
    {"hf_moe_reference.py", "qwen2_moe-sparse", "qwen2moe"},
};

void convert(const std::string& hf_dir, const std::string& out, const char* type, const std::string& roundtrip = "") {
    std::vector<std::string> args{python(), source_dir() + "/tests/tools/gguf_from_hf.py", hf_dir, out, "--type", type};
    if (!roundtrip.empty()) args.insert(args.end(), {"--roundtrip-hf", roundtrip});
    CommandResult r = run_command(args);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
}

const std::vector<int32_t> kIds{5, 17, 300, 2, 99, 99, 421, 7, 64, 250, 13, 500};

torch::Tensor logits_of(LoadedModel& m) {
    torch::NoGradGuard no_grad;
    const std::vector<int64_t> ids(kIds.begin(), kIds.end());
    return m.model->forward(torch::tensor(ids, torch::kLong).unsqueeze(0)).squeeze(0).to(torch::kFloat64);
}

// The positions before the first token whose chosen experts (as a set, any layer) differ
// between the two models; T for dense models.
int64_t routing_kept(LoadedModel& a, LoadedModel& b, int64_t T) {
    torch::NoGradGuard no_grad;
    if (a.model->config().moe.n_experts == 0) return T;
    const std::vector<int64_t> ids(kIds.begin(), kIds.end());
    const torch::Tensor tokens = torch::tensor(ids, torch::kLong).unsqueeze(0);
    const CachedRun ra = a.model->run_with_cache(tokens, {"blocks.*.mlp.hook_expert_indices"});
    const CachedRun rb = b.model->run_with_cache(tokens, {"blocks.*.mlp.hook_expert_indices"});
    int64_t kept = T;
    for (int l = 0; l < a.model->config().n_layers; ++l) {
        const std::string name = hook_name("expert_indices", l);
        if (!ra.cache.contains(name)) continue;
        const torch::Tensor x = std::get<0>(ra.cache.at(name)[0].sort(-1)), y = std::get<0>(rb.cache.at(name)[0].sort(-1));
        for (int64_t t = 0; t < kept; ++t)
            if (!torch::equal(x[t], y[t])) kept = t;
    }
    return kept;
}

}  // namespace

TEST_CASE("GGUF files of every family give their HF checkpoint's logits", "[gguf][hf][moe]") {
    for (const Family& f : kFamilies) {
        DYNAMIC_SECTION(f.variant) {
            TempDir tmp;
            const std::string hf = tmp.file("hf");
            run_reference(f.script, {"write", f.variant, hf, "--seed", "3"});
            convert(hf, tmp.file("f32.gguf"), "f32");
            convert(hf, tmp.file("q8_0.gguf"), "q8_0", tmp.file("q8_0-values"));
            LoadedModel h = load_model(hf);
            LoadedModel g = load_model(tmp.file("f32.gguf"));
            CHECK(g.model->config().model_type == h.model->config().model_type);
            CHECK(g.model->config().moe.n_experts == h.model->config().moe.n_experts);
            CHECK(hook_points_of(g.model->config()).size() == hook_points_of(h.model->config()).size());
            const torch::Tensor ref = logits_of(h);
            const double scale = ref.abs().max().item<double>();
            // float32 compute: a few ulps of the largest logit (Mixtral's reach 1.3e-5 at |logit| 10).
            CHECK((logits_of(g) - ref).abs().max().item<double>() < std::max(1e-5, 3e-6 * scale));

            // q8_0: every weight matrix of the layers quantised (the router stays f32, as llama.cpp
            // keeps ffn_gate_inp). Round-to-nearest on 127 levels of each 32-value block's max errs by
            // at most amax / 254 (0.4%) per weight; the logits pass 3-6 layers x (attention + MLP),
            // 8-16 quantised products on the longest path, so for the dense families their error
            // stays below ~16 x 0.4% ~ 6% of the logits' scale (measured 0.5-4.8%). In the MoE families the routing weights are a
            // softmax of router logits whose input carries the error of every earlier layer, and a
            // token's MLP output moves with them by whole experts' shares: measured 3.5-6.3% here
            // before the first changed expert choice, so they get 10%. (Mis-scaled or misordered blocks give
            // errors of the logits' own size.) Top-k routing is not continuous: where the error flips a
            // near-tie of the router, that token (and through attention every later one) changes by an
            // expert's share, so the bound applies up to the first changed choice.
            LoadedModel q = load_model(tmp.file("q8_0.gguf"));
            CHECK(holds_quantized(q.model->weights()));
            const torch::Tensor q_logits = logits_of(q);
            // Exact ground truth: the independent reference run on the values the blocks hold
            // (dequantised by numpy in the converter).
            const torch::Tensor exact = json_matrix(
                run_reference(f.script, {"logits", tmp.file("q8_0-values"), ids_json(kIds)}), "logits");
            CHECK((q_logits - exact).abs().max().item<double>() < 1e-4);
            const int64_t T = static_cast<int64_t>(kIds.size());
            const int64_t kept = routing_kept(h, q, T);
            INFO("expert choices agree on the first " << kept << " of " << T << " positions");
            CHECK(kept >= T / 2);
            const torch::Tensor diff = (q_logits - ref).abs().narrow(0, 0, kept);
            INFO("q8_0 max |diff| " << diff.max().item<double>() << " of logits up to " << scale);
            const double bound = h.model->config().moe.n_experts > 0 ? 0.10 : 0.06;
            CHECK(diff.max().item<double>() < bound * scale);
            CHECK(diff.max().item<double>() > 0);  // quantised for real
        }
    }
}

TEST_CASE("malformed GGUF MoE files give clear errors", "[gguf][moe][errors]") {
    TempDir tmp;
    const std::string hf = tmp.file("hf");
    run_reference("hf_moe_reference.py", {"write", "olmoe", hf, "--seed", "3"});
    SECTION("a missing expert tensor is named") {
        // Drop the stacked down-projection of layer 1 by renaming it in the HF checkpoint first.
        const std::string broken = tmp.file("broken");
        run_reference("hf_moe_reference.py",
                      {"write", "olmoe", broken, "--seed", "3", "--drop", "model.layers.1.mlp.experts.0.down_proj.weight"});
        // The converter stacks what is there: 5 down experts for 6 routers -> a wrong expert count.
        convert(broken, tmp.file("m.gguf"), "f32");
        CHECK_THROWS_WITH(load_model(tmp.file("m.gguf")), Catch::Contains(tmp.file("m.gguf")) &&
                                                              Catch::Contains("blk.1.ffn_down_exps.weight") &&
                                                              Catch::Contains("expert count") &&
                                                              Catch::Contains("olmoe.expert_count"));
    }
    SECTION("expert_used_count above expert_count") {
        std::string config = read_file(hf + "/config.json");
        write_file(hf + "/config.json", std::regex_replace(config, std::regex("\"num_experts_per_tok\": 2"), "\"num_experts_per_tok\": 9"));
        convert(hf, tmp.file("k.gguf"), "f32");
        CHECK_THROWS_WITH(load_model(tmp.file("k.gguf")), Catch::Contains(tmp.file("k.gguf")) &&
                                                              Catch::Contains("olmoe.expert_used_count") &&
                                                              Catch::Contains("9"));
    }
}
