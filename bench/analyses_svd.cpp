// bench/analyses: the QK/OV circuit SVD of every head of a GPT-2-small-shaped model (12 layers ×
// 12 heads, d_model 768, d_head 64) through FactoredMatrix against the peer a user would write
// without it: forming each 768×768 product and taking its dense SVD (both float64, same
// LibTorch/LAPACK, same run). Also times the complete qk_ov_svd and composition analyses.
//
// usage: bench_analyses [--dense-layers N] [--repeats R] [--threads N] [--tokenizer tokenizer.json]
//   --dense-layers: layers whose 2 × 12 dense SVDs are timed (default all 12); fewer layers are
//   extrapolated linearly to the whole model and the output says so.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "builtin_analyses.hpp"
#include "headscope/factored_matrix.hpp"
#include "headscope/hooked_transformer.hpp"
#include "headscope/sdk/analysis_runner.hpp"
#include "headscope/sdk/plugin_loader.hpp"
#include "headscope/tokenizer.hpp"

using namespace headscope;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

template <class F>
double median_seconds(int repeats, F&& f) {
    std::vector<double> times;
    for (int i = 0; i < repeats; ++i) {
        const auto t0 = Clock::now();
        f();
        times.push_back(seconds_since(t0));
    }
    std::sort(times.begin(), times.end());
    return times[times.size() / 2];
}

// GPT-2 small's shapes (attention only: the MLPs play no part in the circuits), random weights
// scaled like GPT-2's initialisation, W_U tied to W_E.
std::shared_ptr<HookedTransformer> gpt2_small_shaped() {
    ModelConfig c;
    c.architecture = Architecture::gpt2;
    c.model_type = "gpt2";
    c.name = "random GPT-2-small-shaped (attention only)";
    c.n_layers = 12;
    c.d_model = 768;
    c.n_heads = c.n_kv_heads = 12;
    c.d_head = 64;
    c.attn_only = true;
    c.d_vocab = 50257;
    c.n_ctx = 1024;
    c.norm = NormKind::layer;
    c.positions = PositionKind::learned;
    c.gated_mlp = false;
    c.activation = Activation::gelu_new;
    c.tied_embeddings = true;
    torch::manual_seed(0);
    const auto r = [](std::vector<int64_t> s) { return torch::randn(s) * 0.02; };
    ModelWeights w;
    w.W_E = r({c.d_vocab, c.d_model});
    w.W_pos = r({c.n_ctx, c.d_model});
    for (int l = 0; l < c.n_layers; ++l) {
        LayerWeights L;
        L.ln1_w = 1 + r({c.d_model});
        L.ln1_b = r({c.d_model});
        L.W_Q = r({c.n_heads, c.d_model, c.d_head});
        L.W_K = r({c.n_heads, c.d_model, c.d_head});
        L.W_V = r({c.n_heads, c.d_model, c.d_head});
        L.W_O = r({c.n_heads, c.d_head, c.d_model});
        w.layers.push_back(L);
    }
    w.ln_final_w = 1 + r({c.d_model});
    w.ln_final_b = r({c.d_model});
    w.W_U = w.W_E.t();
    return std::make_shared<HookedTransformer>(c, w);
}

class Quiet : public Progress {};

}  // namespace

int main(int argc, char** argv) {
    int dense_layers = 12, repeats = 3;
    std::string tokenizer_path = std::string(HEADSCOPE_SHARED_DIR) + "/tokenizers/gpt2/tokenizer.json";
    for (int i = 1; i < argc; ++i) {
        const auto next = [&](const char* name) -> std::string {
            if (i + 1 >= argc) {
                std::cerr << name << " needs a value\n";
                std::exit(2);
            }
            return argv[++i];
        };
        if (!std::strcmp(argv[i], "--dense-layers"))
            dense_layers = std::clamp(std::stoi(next("--dense-layers")), 1, 12);
        else if (!std::strcmp(argv[i], "--repeats"))
            repeats = std::max(1, std::stoi(next("--repeats")));
        else if (!std::strcmp(argv[i], "--threads"))
            torch::set_num_threads(std::stoi(next("--threads")));
        else if (!std::strcmp(argv[i], "--tokenizer"))
            tokenizer_path = next("--tokenizer");
        else {
            std::cerr << "usage: bench_analyses [--dense-layers N] [--repeats R] [--threads N] [--tokenizer FILE]\n";
            return 2;
        }
    }
    torch::NoGradGuard no_grad;
    auto model = gpt2_small_shaped();
    const ModelConfig& c = model->config();
    const int heads = c.n_layers * c.n_heads;
    fmt::print("bench_analyses: {} layers x {} heads = {} heads, d_model {}, d_head {}, {} threads, float64\n",
               c.n_layers, c.n_heads, heads, c.d_model, c.d_head, torch::get_num_threads());

    // Factored: QK and OV SVD (U, S, Vh) of every head through the small middle matrices.
    torch::Tensor factored_sv;
    const double factored = median_seconds(repeats, [&] {
        std::vector<torch::Tensor> sv;
        for (int l = 0; l < c.n_layers; ++l) {
            sv.push_back(qk_circuit(*model, l).to(torch::kDouble).svd().S);
            sv.push_back(ov_circuit(*model, l).to(torch::kDouble).svd().S);
        }
        factored_sv = torch::stack(sv);  // [2L, H, 64]
    });
    const double factored_values = median_seconds(repeats, [&] {
        for (int l = 0; l < c.n_layers; ++l) {
            qk_circuit(*model, l).to(torch::kDouble).singular_values();
            ov_circuit(*model, l).to(torch::kDouble).singular_values();
        }
    });

    // Dense peer: form each 768×768 product and decompose it (U, S, Vh; and values only).
    double dense = 0, dense_values = 0, worst_rel = 0;
    for (int l = 0; l < dense_layers; ++l) {
        const FactoredMatrix circuits[2] = {qk_circuit(*model, l).to(torch::kDouble),
                                            ov_circuit(*model, l).to(torch::kDouble)};
        for (int k = 0; k < 2; ++k)
            for (int h = 0; h < c.n_heads; ++h) {
                auto t0 = Clock::now();
                const torch::Tensor product = torch::matmul(circuits[k].A()[h], circuits[k].B()[h]);
                const torch::Tensor S = std::get<1>(torch::linalg_svd(product, /*full_matrices=*/false));
                dense += seconds_since(t0);
                t0 = Clock::now();
                torch::linalg_svdvals(torch::matmul(circuits[k].A()[h], circuits[k].B()[h]));
                dense_values += seconds_since(t0);
                const torch::Tensor ours = factored_sv[2 * l + k][h];
                worst_rel = std::max(worst_rel, ((S.narrow(0, 0, c.d_head) - ours).abs() / ours.max()).max().item<double>());
            }
    }
    const double scale = static_cast<double>(c.n_layers) / dense_layers;
    const std::string note = dense_layers == c.n_layers
                                 ? ""
                                 : fmt::format(" (measured on {} layers, extrapolated x{:.1f})", dense_layers, scale);
    dense *= scale;
    dense_values *= scale;
    fmt::print("QK+OV SVD of {} circuits (U, S, Vh):\n", 2 * heads);
    fmt::print("  factored (QR + {}x{} SVD)     {:9.3f} s\n", c.d_head, c.d_head, factored);
    fmt::print("  dense 768x768 SVD (peer)      {:9.3f} s{}\n", dense, note);
    fmt::print("  ratio dense / factored        {:9.1f}x  (goal >= 20x)\n", dense / factored);
    fmt::print("singular values only:\n");
    fmt::print("  factored                      {:9.3f} s\n", factored_values);
    fmt::print("  dense svdvals (peer)          {:9.3f} s{}\n", dense_values, note);
    fmt::print("  ratio dense / factored        {:9.1f}x\n", dense_values / factored_values);
    fmt::print("  max |S_dense - S_factored| / S_max over the measured heads: {:.2e}\n", worst_rel);

    // The complete analyses as a user runs them (token tables through the 50257-token W_E/W_U).
    if (!std::filesystem::exists(tokenizer_path)) {
        fmt::print("analyses: skipped ({} not found; pass --tokenizer)\n", tokenizer_path);
        return 0;
    }
    std::unique_ptr<Tokenizer> tok = load_hf_tokenizer(tokenizer_path);
    AnalysisRegistry registry;
    register_plugin(registry, headscope_builtin_plugin_info(), "built-in");
    Quiet quiet;
    for (const char* id : {"qk_ov_svd", "composition"}) {
        if (!registry.contains(id)) continue;
        Result r;
        const auto t0 = Clock::now();
        r = run_analysis(registry, {id, {}}, *model, *tok, {}, quiet);
        fmt::print("analysis {:<12} {:9.3f} s  {} items{}\n", id, seconds_since(t0), r.items.size(),
                   r.error.empty() ? "" : "  ERROR: " + r.error);
        for (const std::string& line : r.summary) fmt::print("    {}\n", line);
    }
    return 0;
}
