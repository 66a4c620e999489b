// The sparse MoE MLP component against tests/reference/moe_reference.py (float64 numpy, dense
// all-experts formulation of the HF Mixtral / Qwen2-MoE / Qwen3-MoE / OLMoE blocks).
// torch/torch.h first: glog (pulled in by torch) defines CHECK too, and Catch's must win.
#include <torch/torch.h>

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <cstring>

#include "model/moe_mlp.hpp"
#include "support/test_support.hpp"

using namespace headscope;

namespace {
torch::Tensor load(const std::string& dir, const nlohmann::json& entry) {
    const std::string bytes = test::read_file(dir + "/" + entry["file"].get<std::string>());
    std::vector<int64_t> shape = entry["shape"].get<std::vector<int64_t>>();
    torch::Tensor t = torch::empty(shape, torch::kFloat32);
    REQUIRE(static_cast<size_t>(t.numel()) * 4 == bytes.size());
    std::memcpy(t.data_ptr<float>(), bytes.data(), bytes.size());
    return t;
}

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
    REQUIRE(a.sizes() == b.sizes());
    return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

struct Reference {
    test::TempDir dir;
    nlohmann::json manifest;
    Reference() {
        auto r = test::run_command({test::python(), test::source_dir() + "/tests/reference/moe_reference.py", "--out",
                                    dir.path(), "--seed", "3"});
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        manifest = nlohmann::json::parse(test::read_file(dir.file("manifest.json")));
    }
};
}  // namespace

TEST_CASE("MoE MLP equals the HF-formula reference for every family", "[moe]") {
    torch::NoGradGuard no_grad;
    Reference ref;
    const auto& cases = ref.manifest["cases"];
    REQUIRE(cases.size() == 6);
    for (const auto& c : cases) {
        INFO("family " << c["family"].get<std::string>() << ", top_k " << c["top_k"].get<int>() << " of "
                       << c["n_experts"].get<int>());
        const auto& t = c["tensors"];
        auto get = [&](const char* name) { return load(ref.dir.path(), t[name]); };
        MoeMlpWeights w;
        w.W_router = get("W_router");
        w.W_gate = get("W_gate");
        w.W_in = get("W_in");
        w.W_out = get("W_out");
        if (c["shared_expert"].get<bool>()) {
            w.W_shared_gate = get("W_shared_gate");
            w.W_shared_in = get("W_shared_in");
            w.W_shared_out = get("W_shared_out");
            w.W_shared_router = get("W_shared_router");
        }
        MoeMlpOptions o;
        o.top_k = c["top_k"].get<int>();
        o.normalize_topk = c["normalize_topk"].get<bool>();
        const torch::Tensor x = get("x");

        const MoeMlpOutput sparse = moe_mlp_forward(x, w, o);
        CHECK_FALSE(sparse.expert_out.defined());  // not asked for: not computed
        CHECK(max_abs_diff(sparse.out, get("out")) < 1e-4);
        CHECK(max_abs_diff(sparse.router_logits, get("router_logits")) < 1e-4);
        CHECK(max_abs_diff(sparse.expert_weights, get("expert_weights")) < 1e-4);
        CHECK(torch::equal(sparse.expert_indices, get("expert_indices").to(torch::kInt64)));
        CHECK(sparse.expert_indices.scalar_type() == torch::kInt64);

        const MoeMlpOutput full = moe_mlp_forward(x, w, o, {}, /*want_expert_out=*/true);
        REQUIRE(full.expert_out.defined());
        CHECK(max_abs_diff(full.expert_out, get("expert_out")) < 1e-4);
        CHECK(max_abs_diff(full.out, sparse.out) < 1e-5);
        if (c["shared_expert"].get<bool>()) CHECK(max_abs_diff(sparse.shared_out, get("shared_out")) < 1e-4);
        else CHECK_FALSE(sparse.shared_out.defined());
    }
}

TEST_CASE("MoE MLP hooks: edited router logits change the routing, edited expert outputs the sum", "[moe]") {
    torch::NoGradGuard no_grad;
    torch::manual_seed(0);
    const int64_t d = 8, f = 6, E = 4;
    MoeMlpWeights w;
    w.W_router = torch::randn({d, E});
    w.W_gate = torch::randn({E, d, f});
    w.W_in = torch::randn({E, d, f});
    w.W_out = torch::randn({E, f, d});
    MoeMlpOptions o;
    o.top_k = 2;
    const torch::Tensor x = torch::randn({1, 5, d});

    MoeMlpHooks force;  // every token to experts 3 then 1
    force.router_logits = [](const at::Tensor& logits) {
        at::Tensor l = torch::zeros_like(logits);
        l.select(-1, 3).fill_(10.0);
        l.select(-1, 1).fill_(5.0);
        return l;
    };
    const MoeMlpOutput forced = moe_mlp_forward(x, w, o, force);
    CHECK((forced.expert_indices.select(-1, 0) == 3).all().item<bool>());
    CHECK((forced.expert_indices.select(-1, 1) == 1).all().item<bool>());
    // The output is the two experts' SwiGLU mixed by the renormalised softmax of (10, 5).
    auto expert = [&](int64_t e) {
        return torch::matmul(torch::silu(torch::matmul(x, w.W_gate[e])) * torch::matmul(x, w.W_in[e]), w.W_out[e]);
    };
    const double p = 1.0 / (1.0 + std::exp(-5.0));
    CHECK(max_abs_diff(forced.out, p * expert(3) + (1 - p) * expert(1)) < 1e-4);

    MoeMlpHooks zero_second;  // ablate the second chosen expert of every token
    zero_second.expert_out = [](const at::Tensor& y) {
        at::Tensor z = y.clone();
        z.select(2, 1).zero_();
        return z;
    };
    const MoeMlpOutput plain = moe_mlp_forward(x, w, o, {}, true);
    const MoeMlpOutput ablated = moe_mlp_forward(x, w, o, zero_second);
    const at::Tensor first_only = plain.expert_out.select(2, 0) * plain.expert_weights.select(-1, 0).unsqueeze(-1);
    CHECK(max_abs_diff(ablated.out, first_only) < 1e-5);
}

TEST_CASE("MoE MLP hooks: edited expert indices reroute with the router's probabilities", "[moe]") {
    torch::NoGradGuard no_grad;
    torch::manual_seed(1);
    const int64_t d = 8, f = 6, E = 5;
    MoeMlpWeights w;
    w.W_router = torch::randn({d, E});
    w.W_gate = torch::randn({E, d, f});
    w.W_in = torch::randn({E, d, f});
    w.W_out = torch::randn({E, f, d});
    const torch::Tensor x = torch::randn({1, 4, d});
    auto expert = [&](int64_t e) {
        return torch::matmul(torch::silu(torch::matmul(x, w.W_gate[e])) * torch::matmul(x, w.W_in[e]), w.W_out[e]);
    };
    const torch::Tensor p = torch::softmax(torch::matmul(x, w.W_router), -1);  // [1, T, E]
    MoeMlpHooks reroute;  // every token to experts 4 and 0, whatever the router chose
    reroute.expert_indices = [](const at::Tensor& idx) {
        at::Tensor out = idx.clone();
        out.select(-1, 0).fill_(4);
        out.select(-1, 1).fill_(0);
        return out;
    };
    for (bool normalize : {true, false}) {
        MoeMlpOptions o;
        o.top_k = 2;
        o.normalize_topk = normalize;
        const MoeMlpOutput r = moe_mlp_forward(x, w, o, reroute);
        torch::Tensor w4 = p.select(-1, 4).unsqueeze(-1), w0 = p.select(-1, 0).unsqueeze(-1);
        if (normalize) {
            const torch::Tensor sum = w4 + w0;
            w4 = w4 / sum;
            w0 = w0 / sum;
        }
        CHECK((r.expert_indices.select(-1, 0) == 4).all().item<bool>());
        CHECK(max_abs_diff(r.expert_weights.select(-1, 0).unsqueeze(-1), w4) < 1e-5);
        CHECK(max_abs_diff(r.out, w4 * expert(4) + w0 * expert(0)) < 1e-4);
    }
    MoeMlpHooks outside;
    outside.expert_indices = [](const at::Tensor& idx) { return torch::full_like(idx, 7); };
    MoeMlpOptions o;
    CHECK_THROWS_WITH(moe_mlp_forward(x, w, o, outside), Catch::Contains("expert 7") && Catch::Contains("0..4"));
}

TEST_CASE("MoE MLP refuses inconsistent shapes", "[moe]") {
    MoeMlpWeights w;
    w.W_router = torch::zeros({8, 4});
    w.W_gate = torch::zeros({4, 8, 6});
    w.W_in = torch::zeros({4, 8, 6});
    w.W_out = torch::zeros({3, 6, 8});
    MoeMlpOptions o;
    const torch::Tensor x = torch::zeros({1, 2, 8});
    CHECK_THROWS_WITH(moe_mlp_forward(x, w, o), Catch::Contains("W_out has shape [3, 6, 8], expected [4, 6, 8]"));
    w.W_out = torch::zeros({4, 6, 8});
    o.top_k = 5;
    CHECK_THROWS_WITH(moe_mlp_forward(x, w, o), Catch::Contains("top_k is 5, expected 1..4"));
}
