// bench/forward: forward-pass throughput with and without hooks, and achieved GFLOP/s against a
// plain large matmul measured in the same run.
//
// usage: bench_forward [--tokens 256] [--repeats 10] [--threads N] [--shared DIR] [--hf-peer on|off]
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "headscope/hooked_transformer.hpp"
#include "headscope/model_loader.hpp"

using namespace headscope;
using Clock = std::chrono::steady_clock;

namespace {

template <class F>
double median_seconds(int repeats, F&& f) {
    f();  // warm-up
    std::vector<double> times;
    for (int i = 0; i < repeats; ++i) {
        auto t0 = Clock::now();
        f();
        times.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    }
    std::sort(times.begin(), times.end());
    return times[times.size() / 2];
}

// Multiply-adds x2 of one forward pass over T tokens (attention over the full T x T square).
double forward_flops(const ModelConfig& c, int64_t T) {
    const double d = c.d_model, H = c.n_heads, K = c.n_kv_heads, dh = c.d_head, m = c.d_mlp, V = c.d_vocab;
    double per_token_layer = 2 * d * (H + 2 * K) * dh + 2 * H * dh * d;
    if (!c.attn_only) per_token_layer += 2 * d * m * (c.gated_mlp ? 3 : 2);
    double attention = 2.0 * 2.0 * T * T * H * dh;  // scores and z, per layer
    return c.n_layers * (T * per_token_layer + attention) + T * 2 * d * V;
}

double matmul_gflops(int repeats) {
    const int64_t n = 2048;
    torch::Tensor a = torch::randn({n, n}), b = torch::randn({n, n});
    double s = median_seconds(repeats, [&] { torch::mm(a, b); });
    return 2.0 * n * n * n / s / 1e9;
}

std::shared_ptr<HookedTransformer> random_llama(int layers, int d, int heads, int kv_heads, int d_mlp, int vocab) {
    ModelConfig c;
    c.n_layers = layers;
    c.d_model = d;
    c.n_heads = heads;
    c.n_kv_heads = kv_heads;
    c.d_head = d / heads;
    c.d_mlp = d_mlp;
    c.d_vocab = vocab;
    c.n_ctx = 2048;
    c.rotary_dim = c.d_head;
    c.rotary_style = RotaryStyle::half;
    torch::manual_seed(0);
    auto r = [](std::vector<int64_t> s) { return torch::randn(s) * 0.02; };
    ModelWeights w;
    w.W_E = r({vocab, d});
    for (int l = 0; l < layers; ++l) {
        LayerWeights L;
        L.ln1_w = torch::ones({d});
        L.ln2_w = torch::ones({d});
        L.W_Q = r({heads, d, c.d_head});
        L.W_K = r({kv_heads, d, c.d_head});
        L.W_V = r({kv_heads, d, c.d_head});
        L.W_O = r({heads, c.d_head, d});
        L.W_gate = r({d, d_mlp});
        L.W_in = r({d, d_mlp});
        L.W_out = r({d_mlp, d});
        w.layers.push_back(L);
    }
    w.ln_final_w = torch::ones({d});
    w.W_U = r({d, vocab});
    return std::make_shared<HookedTransformer>(c, w);
}

void bench_model(const std::string& label, HookedTransformer& model, int64_t T, int repeats, double peak) {
    torch::NoGradGuard no_grad;
    torch::manual_seed(1);
    torch::Tensor tokens = torch::randint(model.config().d_vocab, {1, T}, torch::kLong);
    double plain = median_seconds(repeats, [&] { model.forward(tokens); });
    double hooked_all, hooked_no_result;
    {
        HookHandle h = model.add_hook("*", [](const at::Tensor&, const HookPoint&) { return std::optional<at::Tensor>(); });
        hooked_all = median_seconds(repeats, [&] { model.forward(tokens); });
    }
    {
        HookScope scope;
        for (const auto& p : model.hook_points())
            if (p.key.site != HookSite::attn_result)
                scope.add(model.add_hook(p.name, [](const at::Tensor&, const HookPoint&) { return std::optional<at::Tensor>(); }));
        hooked_no_result = median_seconds(repeats, [&] { model.forward(tokens); });
    }
    double cached = median_seconds(repeats, [&] { model.run_with_cache(tokens, {"blocks.*.attn.hook_pattern"}); });
    double gflops = forward_flops(model.config(), T) / plain / 1e9;
    fmt::print("{}: {} tokens, {:.1f} MFLOP per forward\n", label, T, forward_flops(model.config(), T) / 1e6);
    fmt::print("  (a) no hooks                      {:9.1f} tokens/s  {:8.2f} ms\n", T / plain, plain * 1e3);
    fmt::print("  (b) pass-through hook everywhere  {:9.1f} tokens/s  {:8.2f} ms  overhead (b)/(a) = {:.3f}\n",
               T / hooked_all, hooked_all * 1e3, hooked_all / plain);
    fmt::print("  (b') same without hook_result     {:9.1f} tokens/s  {:8.2f} ms  overhead (b')/(a) = {:.3f}\n",
               T / hooked_no_result, hooked_no_result * 1e3, hooked_no_result / plain);
    fmt::print("  (c) caching all patterns          {:9.1f} tokens/s  {:8.2f} ms  ratio (c)/(a) = {:.3f}\n",
               T / cached, cached * 1e3, cached / plain);
    fmt::print("  achieved {:.1f} GFLOP/s = {:.2f} of the large-matmul peak ({:.1f} GFLOP/s)\n", gflops,
               gflops / peak, peak);
}

std::string run_capture(const std::string& command) {
    std::string out;
    FILE* pipe = popen(command.c_str(), "r");
    if (!pipe) return out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
    int status = pclose(pipe);
    if (status != 0) throw std::runtime_error("command failed: " + command);
    return out;
}

// A random HF checkpoint of a real model's shape, run by headscope (caching every pattern) and
// by the PyTorch-Python eager peer with forward hooks (bench/python_peer.py), same threads.
void bench_hf_peer(const std::string& label, const std::string& family, const std::string& size_flags,
                   const std::string& source_dir, int64_t T, int repeats) {
    const std::string python = "/usr/bin/python3";
    const std::string dir = "/tmp/headscope-bench-" + family;
    if (!std::filesystem::exists(dir + "/config.json"))
        run_capture(python + " " + source_dir + "/tests/reference/hf_reference.py write " + family + " " + dir +
                    " --seed 1 " + size_flags);
    LoadedModel m = load_model(dir);
    torch::NoGradGuard no_grad;
    torch::manual_seed(1);
    torch::Tensor tokens = torch::randint(m.model->config().d_vocab, {1, T}, torch::kLong);
    double ours = median_seconds(repeats, [&] { m.model->run_with_cache(tokens, {"blocks.*.attn.hook_pattern"}); });
    std::string peer = run_capture(python + " " + source_dir + "/bench/python_peer.py " + dir + " " + std::to_string(T) +
                                   " " + std::to_string(repeats) + " " + std::to_string(torch::get_num_threads()));
    double theirs = std::stod(peer.substr(peer.find(':') + 1));
    fmt::print("{}: {} tokens, caching every attention pattern\n", label, T);
    fmt::print("  headscope (C++)                  {:9.1f} tokens/s  {:8.2f} ms\n", T / ours, ours * 1e3);
    fmt::print("  PyTorch-Python eager + hooks     {:9.1f} tokens/s  {:8.2f} ms\n", T / theirs, theirs * 1e3);
    fmt::print("  ratio headscope / python = {:.2f}x\n", theirs / ours);
}

}  // namespace

int main(int argc, char** argv) {
    int64_t T = 256;
    int repeats = 10;
    int threads = 0;
    bool hf_peer = true;
    std::string source_dir = HEADSCOPE_SOURCE_DIR;
    std::string shared = HEADSCOPE_SHARED_DIR;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--tokens")) T = std::stoll(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--repeats")) repeats = std::stoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--shared")) shared = argv[i + 1];
        else if (!std::strcmp(argv[i], "--threads")) threads = std::stoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--hf-peer")) hf_peer = std::strcmp(argv[i + 1], "off") != 0;
    }
    if (threads > 0) torch::set_num_threads(threads);
    fmt::print("threads: {}\n", torch::get_num_threads());
    double peak = matmul_gflops(repeats);
    fmt::print("peer: 2048x2048 float32 matmul: {:.1f} GFLOP/s\n\n", peak);
    try {
        LoadOptions o;
        o.tokenizer_path = shared + "/models/stories260K/tok512.bin";
        LoadedModel stories = load_model(shared + "/models/stories260K/stories260K.bin", o);
        bench_model("stories260K (llama2.c)", *stories.model, T, repeats, peak);
    } catch (const std::exception& e) {
        fmt::print("stories260K skipped: {}\n", e.what());
    }
    auto big = random_llama(12, 768, 12, 12, 2048, 32000);
    bench_model("random Llama, GPT-2-small size (12 x 768, 12 heads, d_mlp 2048, vocab 32000)", *big, T, repeats, peak);
    big.reset();
    if (hf_peer) {
        fmt::print("\n");
        bench_hf_peer("GPT-2-small-shaped HF checkpoint (random weights)", "gpt2",
                      "--d-model 768 --layers 12 --heads 12 --vocab 50257 --ctx 1024", source_dir, T, repeats);
        bench_hf_peer("Pythia-160M-shaped HF checkpoint (random weights)", "gpt_neox",
                      "--d-model 768 --layers 12 --heads 12 --vocab 50304 --ctx 2048", source_dir, T, repeats);
    }
    return 0;
}
