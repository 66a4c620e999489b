// Mixture-of-experts HF checkpoints (mixtral, qwen2_moe, qwen3_moe, olmoe) written by the
// independent Python reference (tests/reference/hf_moe_reference.py, token-by-token float64 HF
// formulas) in real HF layout, against its forward pass: logits, one layer's pattern, and every
// sparse layer's router logits, chosen experts and routing weights.
#include <torch/torch.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <regex>
#include <set>

#include "headscope/error.hpp"
#include "headscope/hook_names.hpp"
#include "headscope/model_loader.hpp"
#include "headscope/sdk/result_store.hpp"
#include "support/cli_support.hpp"
#include "support/reference.hpp"
#include "support/test_support.hpp"

using namespace headscope;
using namespace headscope::test;

namespace {

const char* kScript = "hf_moe_reference.py";
const std::vector<int32_t> kIds{5, 17, 300, 2, 99, 99, 421, 7, 64, 250, 13, 500};

torch::Tensor tokens_of(const std::vector<int32_t>& ids) {
    return torch::tensor(std::vector<int64_t>(ids.begin(), ids.end()), torch::kLong).unsqueeze(0);
}

torch::Tensor nested(const nlohmann::json& j) {  // list of lists of numbers -> float64 [rows, cols]
    std::vector<double> flat;
    for (const auto& row : j)
        for (const auto& v : row) flat.push_back(v.get<double>());
    return torch::tensor(flat, torch::kFloat64).view({static_cast<int64_t>(j.size()), -1});
}

double max_diff(const torch::Tensor& a, const torch::Tensor& b) {
    REQUIRE(a.sizes() == b.sizes());
    return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

std::string write_variant(const TempDir& tmp, const std::string& variant, std::vector<std::string> extra = {}) {
    const std::string dir = tmp.file(variant);
    std::vector<std::string> args{"write", variant, dir, "--seed", "3"};
    args.insert(args.end(), extra.begin(), extra.end());
    run_reference(kScript, args);
    return dir;
}

// Logits, layer 1's pattern and the routing of every sparse layer against the reference.
void check_moe_parity(const std::string& dir, const LoadOptions& options = {}) {
    torch::NoGradGuard no_grad;
    LoadedModel m = load_model(dir, options);
    const ModelConfig& c = m.model->config();
    REQUIRE(c.moe.n_experts > 2);
    REQUIRE(c.moe.top_k > 1);
    REQUIRE(c.n_kv_heads < c.n_heads);
    CachedRun run = m.model->run_with_cache(
        tokens_of(kIds), {hook_name("pattern", 1), "blocks.*.mlp.hook_router_logits", "blocks.*.mlp.hook_expert_indices",
                          "blocks.*.mlp.hook_expert_weights"});
    const nlohmann::json ref = nlohmann::json::parse(run_reference(kScript, {"logits", dir, ids_json(kIds), "--layer", "1"}));
    CHECK(max_diff(run.logits.squeeze(0), nested(ref.at("logits"))) < 1e-4);
    const torch::Tensor pattern = run.cache.at(hook_name("pattern", 1)).squeeze(0);
    std::vector<double> flat;
    for (const auto& head : ref.at("pattern"))
        for (const auto& row : head)
            for (const auto& v : row) flat.push_back(v.get<double>());
    CHECK(max_diff(pattern, torch::tensor(flat, torch::kFloat64).view(pattern.sizes())) < 1e-4);

    int sparse = 0;
    for (int l = 0; l < c.n_layers; ++l) {
        INFO("layer " << l);
        const std::string key = std::to_string(l);
        const bool in_ref = ref.at("router_logits").contains(key);
        REQUIRE(c.is_moe_layer(l) == in_ref);
        REQUIRE(run.cache.contains(hook_name("router_logits", l)) == in_ref);
        if (!in_ref) continue;
        ++sparse;
        const torch::Tensor logits = run.cache.at(hook_name("router_logits", l)).squeeze(0);  // [T, E]
        CHECK(logits.size(1) == c.moe.n_experts);
        CHECK(max_diff(logits, nested(ref["router_logits"][key])) < 1e-4);
        const torch::Tensor indices = run.cache.at(hook_name("expert_indices", l)).squeeze(0);  // [T, k]
        CHECK(indices.scalar_type() == torch::kLong);
        CHECK(max_diff(indices, nested(ref["expert_indices"][key])) == 0);
        CHECK(max_diff(run.cache.at(hook_name("expert_weights", l)).squeeze(0), nested(ref["expert_weights"][key])) < 1e-4);
    }
    CHECK(sparse > 0);
}

}  // namespace

TEST_CASE("MoE HF checkpoints match the independent PyTorch reference", "[hf][moe][reference]") {
    for (const char* v : {"mixtral", "qwen2_moe", "qwen3_moe", "qwen3_moe-step2", "olmoe"}) {
        DYNAMIC_SECTION(v) {
            TempDir tmp;
            check_moe_parity(write_variant(tmp, v));
        }
    }
}

TEST_CASE("MoE checkpoints stored in bfloat16 and sharded match the reference with streamed weights", "[hf][moe][reference]") {
    // Experts are one tensor each in the file: stacked [E, ...] only when their layer runs.
    for (const char* v : {"mixtral", "qwen2_moe", "olmoe"}) {
        DYNAMIC_SECTION(v) {
            TempDir tmp;
            const std::string dir = write_variant(tmp, v, {"--dtype", "BF16", "--shards", "3"});
            LoadOptions o;
            o.compute.residency = WeightResidency::streamed;
            check_moe_parity(dir, o);
            LoadedModel m = load_model(dir, o);
            CHECK(m.model->residency() == WeightResidency::streamed);
            const LayerWeights& L = m.model->weights().layers[0];
            CHECK(L.W_router.scalar_type() == torch::kBFloat16);  // a view of the file
            CHECK_FALSE(L.W_expert_gate.defined());               // stacked per layer at use
            CHECK_FALSE(holds_quantized(m.model->weights()));
        }
    }
}

TEST_CASE("MoE weights are visited, counted and validated like every weight", "[hf][moe]") {
    TempDir tmp;
    LoadedModel m = load_model(write_variant(tmp, "qwen2_moe"));
    const ModelConfig& c = m.model->config();
    CHECK(m.model->residency() == WeightResidency::resident);  // stacking is not quantisation
    // Parameters as the reference wrote them: 4 experts of width 32, a shared expert of 48, layer 1 dense (96).
    const int64_t d = 64, dh = 16, attn = d * 4 * dh * 2 + d * 2 * dh * 2 + (4 + 2 + 2) * dh, norms = 2 * d;
    const int64_t sparse = d * 4 + 4 * 3 * d * 32 + 3 * d * 48 + d, dense = 3 * d * 96;
    CHECK(m.model->parameter_count() == 512 * d + d + 3 * (attn + norms) + 2 * sparse + dense);
    std::set<std::string> names;
    for_each_weight(m.model->weights(), [&](const std::string& name, const at::Tensor& t) {
        if (t.defined()) names.insert(name);
    });
    CHECK(names.count("blocks.0.mlp.experts.W_gate"));
    CHECK(names.count("blocks.0.mlp.shared.W_router"));
    CHECK(names.count("blocks.1.mlp.W_gate"));
    CHECK_FALSE(names.count("blocks.1.mlp.W_router"));
    CHECK_FALSE(names.count("blocks.0.mlp.W_gate"));
    CHECK(m.model->weights().layers[2].W_expert_out.sizes() == at::IntArrayRef({4, 32, 64}));
    // The hook list is derived from the block: sparse layers have router sites and no hook_pre.
    std::set<std::string> hooks;
    for (const auto& p : m.model->hook_points()) hooks.insert(p.name);
    CHECK(hooks.count("blocks.0.mlp.hook_router_logits"));
    CHECK(hooks.count("blocks.2.mlp.hook_expert_out"));
    CHECK_FALSE(hooks.count("blocks.0.mlp.hook_pre"));
    CHECK(hooks.count("blocks.1.mlp.hook_pre"));
    CHECK_FALSE(hooks.count("blocks.1.mlp.hook_router_logits"));
    // A weight of the wrong shape is refused naming it.
    ModelWeights w = m.model->weights();
    w.layers[2].W_expert_in = w.layers[2].W_expert_in.narrow(0, 0, 3);
    CHECK_THROWS_WITH(validate_weights(c, w), Catch::Contains("blocks.2.mlp.experts.W_in") && Catch::Contains("[4, 64, 32]"));
}

TEST_CASE("experts run only on the tokens routed to them", "[hf][moe]") {
    // An expert no token of the prompt picks gets NaN weights: a dense all-experts compute would
    // turn every logit NaN (0 * NaN), the sparse one never touches it.
    torch::NoGradGuard no_grad;
    TempDir tmp;
    const std::string clean = write_variant(tmp, "olmoe");
    const std::vector<int32_t> ids{5, 17, 300};
    const nlohmann::json ref = nlohmann::json::parse(run_reference(kScript, {"logits", clean, ids_json(ids)}));
    int layer = -1, unused = -1;
    for (int l = 0; l < 3 && unused < 0; ++l) {
        std::set<int> chosen;
        for (const auto& row : ref["expert_indices"][std::to_string(l)])
            for (const auto& e : row) chosen.insert(e.get<int>());
        for (int e = 0; e < 6 && unused < 0; ++e)
            if (!chosen.count(e)) layer = l, unused = e;
    }
    REQUIRE(unused >= 0);
    const std::string dir = tmp.file("nan");
    run_reference(kScript, {"write", "olmoe", dir, "--seed", "3", "--nan-expert", std::to_string(layer) + "," + std::to_string(unused)});
    LoadedModel m = load_model(dir);
    const torch::Tensor logits = m.model->forward(tokens_of(ids)).squeeze(0);
    CHECK(torch::isfinite(logits).all().item<bool>());
    CHECK(max_diff(logits, nested(ref.at("logits"))) < 1e-4);
    // The poisoned expert is real: routing a token to it poisons the output.
    auto handle = m.model->add_hook(hook_name("expert_indices", layer), [&](const at::Tensor& idx, const HookPoint&) {
        at::Tensor out = idx.clone();
        out.select(-1, 0).fill_(unused);
        return std::optional<at::Tensor>(out);
    });
    CHECK_FALSE(torch::isfinite(m.model->forward(tokens_of(ids))).all().item<bool>());
}

TEST_CASE("headscope analyze --analysis expert_routing counts the reference's routing", "[hf][moe][cli]") {
    TempDir tmp;
    const std::string dir = write_variant(tmp, "qwen2_moe");
    const std::string prompt = "the cat sat on the mat";
    CommandResult tok = cli({"tokenize", dir, prompt, "--json"});
    INFO(tok.out << tok.err);
    REQUIRE(tok.exit_code == 0);
    const std::vector<int64_t> ids64 = json_ints(tok.out, "ids");
    const std::vector<int32_t> ids(ids64.begin(), ids64.end());
    const nlohmann::json ref = nlohmann::json::parse(run_reference(kScript, {"logits", dir, ids_json(ids)}));

    CommandResult run = cli({"analyze", dir, "--prompt", prompt, "--analysis", "expert_routing", "--out", tmp.file("r.h5")});
    INFO(run.out << run.err);
    REQUIRE(run.exit_code == 0);
    const ResultsFile results = read_results_file(tmp.file("r.h5"));
    REQUIRE(results.results.size() == 1);
    const ResultItem* item = results.results[0].find("expert_frequency");
    REQUIRE(item != nullptr);
    const Matrix& freq = std::get<Matrix>(*item);
    // qwen2_moe's layer 1 is dense (mlp_only_layers): rows are the sparse layers 0 and 2.
    REQUIRE(freq.rows == 2);
    REQUIRE(freq.cols == 4);
    CHECK(freq.row_labels == std::vector<std::string>{"L0", "L2"});
    const int T = static_cast<int>(ids.size()), k = 2;
    for (int r = 0; r < 2; ++r) {
        const std::string layer = r == 0 ? "0" : "2";
        std::vector<double> count(4, 0.0);
        for (const auto& row : ref["expert_indices"][layer])
            for (const auto& e : row) count[static_cast<size_t>(e.get<int>())] += 1;
        double total = 0;
        for (int e = 0; e < 4; ++e) {
            const double got = freq.values[static_cast<size_t>(r * 4 + e)] * T * k;  // choices of expert e
            CHECK(got == Approx(count[static_cast<size_t>(e)]).margin(1e-6));
            total += got;
        }
        CHECK(total == Approx(T * k).margin(1e-6));  // every token chose k experts
    }
    // headscope run caches the router logits the reference computes (read back with h5py).
    CommandResult cached = cli({"run", dir, "--prompt", prompt, "--cache", "blocks.*.mlp.hook_router_logits", "--out",
                                tmp.file("run.h5")});
    INFO(cached.out << cached.err);
    REQUIRE(cached.exit_code == 0);
    CommandResult dump = run_command(
        {python(), "-c",
         "import sys, json, h5py\n"
         "a = h5py.File(sys.argv[1], 'r')['activations']\n"
         "print(json.dumps({k: {'shape': list(a[k].shape), 'values': a[k][()].reshape(-1).tolist()} for k in a}))",
         tmp.file("run.h5")});
    INFO(dump.err);
    REQUIRE(dump.exit_code == 0);
    const nlohmann::json objects = nlohmann::json::parse(dump.out);
    CHECK_FALSE(objects.contains("blocks.1.mlp.hook_router_logits"));  // the dense layer
    for (const char* layer : {"0", "2"}) {
        const auto& ds = objects.at(std::string("blocks.") + layer + ".mlp.hook_router_logits");
        CHECK(ds.at("shape") == nlohmann::json::array({1, T, 4}));
        const torch::Tensor got = torch::tensor(ds.at("values").get<std::vector<double>>(), torch::kFloat64).view({T, 4});
        CHECK(max_diff(got, nested(ref["router_logits"][layer])) < 1e-4);
    }
    // info shows the experts.
    CommandResult info = cli({"info", dir, "--json"});
    REQUIRE(info.exit_code == 0);
    const nlohmann::json experts = nlohmann::json::parse(info.out).at("experts");
    CHECK(experts.at("count") == 4);
    CHECK(experts.at("per_token") == 2);
    CHECK(experts.at("shared_expert") == 48);
    CHECK(experts.at("dense_layers") == "1");

    // A dense model is refused with the reason.
    CommandResult dense = cli({"analyze", stories_bin(), "--prompt", "Once", "--analysis", "expert_routing", "--out",
                               tmp.file("d.h5")});
    CHECK(dense.exit_code != 0);
    CHECK(contains(dense.err, "mixture-of-experts"));
}

TEST_CASE("broken MoE checkpoints give clear errors", "[hf][moe][errors]") {
    TempDir tmp;
    SECTION("a missing expert tensor is named") {
        const std::string dir = write_variant(tmp, "qwen3_moe", {"--drop", "model.layers.1.mlp.experts.2.up_proj.weight"});
        CHECK_THROWS_WITH(load_model(dir), Catch::Contains("missing tensor") &&
                                               Catch::Contains("model.layers.1.mlp.experts.2.up_proj.weight") &&
                                               Catch::Contains(dir) && Catch::Contains("expected shape [40, 64]"));
    }
    SECTION("more experts in config.json than in the file") {
        const std::string dir = write_variant(tmp, "mixtral");
        const std::string config = read_file(dir + "/config.json");
        write_file(dir + "/config.json", std::regex_replace(config, std::regex("\"num_local_experts\": 4"), "\"num_local_experts\": 5"));
        CHECK_THROWS_WITH(load_model(dir), Catch::Contains("model.layers.0.block_sparse_moe.gate.weight") &&
                                               Catch::Contains("routes to 4 experts") && Catch::Contains("says 5") &&
                                               Catch::Contains("num_local_experts"));
    }
    SECTION("fewer experts in config.json than in the file") {
        const std::string dir = write_variant(tmp, "olmoe");
        const std::string config = read_file(dir + "/config.json");
        write_file(dir + "/config.json", std::regex_replace(config, std::regex("\"num_experts\": 6"), "\"num_experts\": 3"));
        CHECK_THROWS_WITH(load_model(dir), Catch::Contains("model.layers.0.mlp.gate.weight") &&
                                               Catch::Contains("routes to 6 experts") && Catch::Contains("says 3"));
    }
    SECTION("top-k above the expert count") {
        const std::string dir = write_variant(tmp, "qwen3_moe");
        const std::string config = read_file(dir + "/config.json");
        write_file(dir + "/config.json", std::regex_replace(config, std::regex("\"num_experts_per_tok\": 3"), "\"num_experts_per_tok\": 7"));
        CHECK_THROWS_WITH(load_model(dir), Catch::Contains("config.json") && Catch::Contains("num_experts_per_tok") &&
                                               Catch::Contains("5 experts"));
    }
    SECTION("mlp_only_layers outside the model") {
        const std::string dir = write_variant(tmp, "qwen2_moe");
        const std::string config = read_file(dir + "/config.json");
        write_file(dir + "/config.json", std::regex_replace(config, std::regex("\"mlp_only_layers\": \\[\\s*1\\s*\\]"), "\"mlp_only_layers\": [7]"));
        CHECK_THROWS_WITH(load_model(dir), Catch::Contains("mlp_only_layers") && Catch::Contains("0..2"));
    }
}
