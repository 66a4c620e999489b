// Attribution patching vs exhaustive per-head activation patching on tiny-world's IOI prompts.
// Prints the time of each, their ratio, and Spearman's rho between the two per-head rankings.
// Peers measured in the same run: head_attribution's activation patching (batched over heads)
// and a plain loop of one forward pass per head and prompt (patch_heads_hook).
//
// usage: bench_patching [MODEL_DIR [PROMPTS.jsonl [MAX_PROMPTS]]]
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <numeric>

#include <fmt/format.h>

#include "builtin_analyses.hpp"
#include "headscope/interventions.hpp"
#include "headscope/model_loader.hpp"
#include "headscope/sdk/analysis_runner.hpp"
#include "headscope/sdk/plugin_loader.hpp"

using namespace headscope;

namespace {

struct Quiet : Progress {};

// Wall-clock seconds and this process's CPU seconds since a starting point (the machine may be
// shared; CPU time is the steadier figure with one thread).
struct Clock {
    std::chrono::steady_clock::time_point wall = std::chrono::steady_clock::now();
    std::clock_t cpu = std::clock();
    double wall_s() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - wall).count(); }
    double cpu_s() const { return static_cast<double>(std::clock() - cpu) / CLOCKS_PER_SEC; }
};

std::vector<double> ranks(const std::vector<double>& v) {
    std::vector<size_t> idx(v.size());
    std::iota(idx.begin(), idx.end(), size_t{0});
    std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
    std::vector<double> r(v.size());
    for (size_t i = 0; i < idx.size();) {
        size_t j = i;
        while (j + 1 < idx.size() && v[idx[j + 1]] == v[idx[i]]) ++j;
        for (size_t k = i; k <= j; ++k) r[idx[k]] = (static_cast<double>(i + j)) / 2.0 + 1.0;
        i = j + 1;
    }
    return r;
}

double spearman(const std::vector<double>& a, const std::vector<double>& b) {
    std::vector<double> ra = ranks(a), rb = ranks(b);
    const double n = static_cast<double>(ra.size());
    const double ma = std::accumulate(ra.begin(), ra.end(), 0.0) / n, mb = std::accumulate(rb.begin(), rb.end(), 0.0) / n;
    double sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < ra.size(); ++i) {
        sab += (ra[i] - ma) * (rb[i] - mb);
        saa += (ra[i] - ma) * (ra[i] - ma);
        sbb += (rb[i] - mb) * (rb[i] - mb);
    }
    return sab / std::sqrt(saa * sbb);
}

std::string top(const HeadGrid& g, size_t n) {
    std::vector<size_t> idx(g.values.size());
    std::iota(idx.begin(), idx.end(), size_t{0});
    std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return std::abs(g.values[a]) > std::abs(g.values[b]); });
    std::string out;
    for (size_t i = 0; i < n && i < idx.size(); ++i)
        out += fmt::format("{}L{}H{} {:+.3f}", i ? ", " : "", idx[i] / static_cast<size_t>(g.heads),
                           idx[i] % static_cast<size_t>(g.heads), g.values[idx[i]]);
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string model_dir = argc > 1 ? argv[1] : std::string(HEADSCOPE_SOURCE_DIR) + "/data/models/tiny-world";
    const std::string prompt_file = argc > 2 ? argv[2] : std::string(HEADSCOPE_SOURCE_DIR) + "/data/prompts/ioi.jsonl";
    const size_t max_prompts = argc > 3 ? static_cast<size_t>(std::stoul(argv[3])) : 100;
    if (!std::filesystem::exists(model_dir) || !std::filesystem::exists(prompt_file)) {
        std::printf("bench_patching: skipped, %s or %s is absent\n", model_dir.c_str(), prompt_file.c_str());
        return 0;
    }
    try {
        torch::set_num_threads(1);
        LoadedModel m = load_model(model_dir);
        std::vector<PromptExample> examples = load_prompt_set(prompt_file);
        if (examples.size() > max_prompts) examples.resize(max_prompts);
        std::vector<TokenizedPrompt> prompts = tokenize_prompts(*m.tokenizer, examples);
        AnalysisRegistry registry;
        register_plugin(registry, headscope_builtin_plugin_info(), "built-in");
        const ModelConfig& cfg = m.model->config();
        Quiet quiet;
        std::printf("bench_patching: %s, %d layers x %d heads, %zu prompts of %s, 1 thread\n", model_dir.c_str(),
                    cfg.n_layers, cfg.n_heads, prompts.size(), prompt_file.c_str());

        Clock c_attr;
        Result attr = run_analysis(registry, {"head_attribution", {{"parts", "attribution_patching"}}}, *m.model,
                                   *m.tokenizer, prompts, quiet);
        const double t_attr = c_attr.wall_s(), cpu_attr = c_attr.cpu_s();
        Clock c_act;
        Result act = run_analysis(registry, {"head_attribution", {{"parts", "activation_patching"}}}, *m.model,
                                  *m.tokenizer, prompts, quiet);
        const double t_act = c_act.wall_s(), cpu_act = c_act.cpu_s();
        if (!attr.error.empty() || !act.error.empty()) {
            std::fprintf(stderr, "bench_patching: %s%s\n", attr.error.c_str(), act.error.c_str());
            return 1;
        }
        const HeadGrid& ga = *attr.head_grid("attribution_patching");
        const HeadGrid& gp = *act.head_grid("activation_patching");

        // Exhaustive per-head activation patching, one forward pass per (prompt, head).
        torch::NoGradGuard no_grad;
        Clock c_loop;
        std::vector<double> loop(static_cast<size_t>(cfg.n_layers * cfg.n_heads), 0.0);
        size_t used = 0;
        for (const auto& p : prompts) {
            if (p.corrupted_ids.size() != p.ids.size() || p.answer_id < 0 || p.alternative_id < 0) continue;
            ++used;
            auto tok = [](const std::vector<int32_t>& ids) {
                return torch::tensor(std::vector<int64_t>(ids.begin(), ids.end()), torch::kLong).unsqueeze(0);
            };
            CachedRun clean = m.model->run_with_cache(tok(p.ids), {"blocks.*.attn.hook_z"});
            torch::Tensor corrupted = tok(p.corrupted_ids);
            auto metric = [&](const torch::Tensor& logits) {
                torch::Tensor last = logits[0][-1];
                return (last[p.answer_id] - last[p.alternative_id]).item<double>();
            };
            const double base = metric(m.model->forward(corrupted));
            for (int l = 0; l < cfg.n_layers; ++l)
                for (int h = 0; h < cfg.n_heads; ++h)
                    loop[static_cast<size_t>(l * cfg.n_heads + h)] +=
                        metric(m.model->run_with_hooks(corrupted, {patch_heads_hook(l, {h}, clean.cache.at(hook_name("z", l)))})) - base;
        }
        for (double& v : loop) v /= static_cast<double>(std::max<size_t>(used, 1));
        const double t_loop = c_loop.wall_s(), cpu_loop = c_loop.cpu_s();
        double agree = 0;
        for (size_t i = 0; i < loop.size(); ++i) agree = std::max(agree, std::abs(loop[i] - gp.values[i]));

        std::vector<double> abs_a, abs_p;
        for (double v : ga.values) abs_a.push_back(std::abs(v));
        for (double v : gp.values) abs_p.push_back(std::abs(v));
        std::printf("                                                          wall s    cpu s   ratio (cpu)\n");
        std::printf("  attribution patching (1 fwd + 1 bwd per prompt):       %8.3f %8.3f   1.0x\n", t_attr, cpu_attr);
        std::printf("  activation patching, head_attribution (batched heads): %8.3f %8.3f   %.1fx\n", t_act, cpu_act,
                    cpu_act / cpu_attr);
        std::printf("  activation patching, one forward per head (peer loop): %8.3f %8.3f   %.1fx\n", t_loop, cpu_loop,
                    cpu_loop / cpu_attr);
        std::printf("  batched vs loop activation patching: max |difference| %.2g\n", agree);
        std::printf("  Spearman rho (attribution vs activation patching), signed: %.3f, |effect|: %.3f over %zu heads\n",
                    spearman(ga.values, gp.values), spearman(abs_a, abs_p), ga.values.size());
        std::printf("  top activation patching:  %s\n", top(gp, 5).c_str());
        std::printf("  top attribution patching: %s\n", top(ga, 5).c_str());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_patching: %s\n", e.what());
        return 1;
    }
    return 0;
}
