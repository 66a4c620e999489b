// bench/intervention_sweep: the sweep engine (HeadSweep) on a GPT-2-small-shaped random
// checkpoint and 32 IOI-style prompts of equal length.
//   (1) exhaustive zero ablation of all 144 heads, metric logit(answer) − logit(alternative) at
//       the final position: HeadSweep vs one full hooked forward per head in C++ (today's path)
//       vs a TransformerLens-style PyTorch-Python peer (bench/python_sweep_peer.py: one hooked
//       forward per head, batched over the prompts, same threads), all in this run; goal >= 5x.
//   (2) attribution patching vs exhaustive activation patching of every head (head_attribution,
//       which runs activation patching through HeadSweep); goal >= 20x; Spearman's rho printed.
// Prints figures and ratios; asserts nothing about time.
//
// usage: bench_intervention_sweep [--prompts 32] [--threads N] [--peer on|off] [--plain on|off]
//                                 [--patching on|off|attribution]
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "builtin_analyses.hpp"
#include "head_attribution/attribution_parts.hpp"
#include "headscope/head_sweep.hpp"
#include "headscope/interventions.hpp"
#include "headscope/model_loader.hpp"
#include "headscope/sdk/analysis_runner.hpp"
#include "headscope/sdk/plugin_loader.hpp"
#include "headscope/tokenizer.hpp"

using namespace headscope;

namespace {

struct Quiet : Progress {};

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::string run_capture(const std::string& command) {
    std::string out;
    FILE* pipe = popen(command.c_str(), "r");
    if (!pipe) throw std::runtime_error("cannot run " + command);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
    if (pclose(pipe) != 0) throw std::runtime_error("command failed: " + command);
    return out;
}

// IOI-style prompts ("When A and B went to the store, B gave a drink to" -> A, alternative B;
// corrupted: a third name C in place of the second B) with single-token names, so every prompt
// has the same length.
std::vector<TokenizedPrompt> ioi_prompts(const Tokenizer& tok, size_t count) {
    const std::vector<std::string> names{" Mary", " John", " Tom", " James", " Anna", " Paul", " Sarah", " Mark",
                                         " David", " Lisa", " Kate", " Jack", " Emma", " Peter", " Alice", " Bob"};
    const std::vector<std::string> templates{"When{} and{} went to the store,{} gave a drink to",
                                             "Then,{} and{} had a long argument, and afterwards{} said to",
                                             "After{} and{} went to the park,{} gave a ball to",
                                             "While{} and{} were working at the office,{} handed a letter to"};
    auto one = [&](const std::string& text) {
        std::vector<int32_t> ids = tok.encode(text, false).ids;
        return ids;
    };
    std::vector<std::string> single;
    for (const auto& n : names)
        if (one(n).size() == 1) single.push_back(n);
    std::vector<TokenizedPrompt> out;
    size_t want_len = 0;
    for (size_t i = 0; out.size() < count && i < 10000; ++i) {
        const std::string& t = templates[i % templates.size()];
        const std::string& a = single[i % single.size()];
        const std::string& b = single[(i / single.size() + i + 1) % single.size()];
        const std::string& c = single[(i + 5) % single.size()];
        if (a == b || b == c || a == c) continue;
        TokenizedPrompt p;
        p.example.prompt = fmt::format(fmt::runtime(t), a, b, b);
        p.ids = one(p.example.prompt);
        p.corrupted_ids = one(fmt::format(fmt::runtime(t), a, b, c));
        p.answer_id = one(a)[0];
        p.alternative_id = one(b)[0];
        if (want_len == 0) want_len = p.ids.size();
        if (p.ids.size() != want_len || p.corrupted_ids.size() != want_len) continue;
        for (int32_t id : p.ids) p.token_texts.push_back(tok.token_text(id));
        out.push_back(std::move(p));
    }
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    size_t n_prompts = 32;
    int threads = 0;
    bool peer = true, plain = true, patching = true, activation = true;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--prompts")) n_prompts = static_cast<size_t>(std::stoul(argv[i + 1]));
        else if (!std::strcmp(argv[i], "--threads")) threads = std::stoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--peer")) peer = std::strcmp(argv[i + 1], "off") != 0;
        else if (!std::strcmp(argv[i], "--plain")) plain = std::strcmp(argv[i + 1], "off") != 0;
        else if (!std::strcmp(argv[i], "--patching")) {  // on, off, or attribution (that part alone, to profile)
            patching = std::strcmp(argv[i + 1], "off") != 0;
            activation = std::strcmp(argv[i + 1], "attribution") != 0;
        }
    }
    if (threads > 0) torch::set_num_threads(threads);
    try {
        const std::string source = HEADSCOPE_SOURCE_DIR, python = "/usr/bin/python3";
        const std::string dir = "/tmp/headscope-bench-gpt2";
        if (!std::filesystem::exists(dir + "/config.json"))
            run_capture(python + " " + source + "/tests/reference/hf_reference.py write gpt2 " + dir +
                        " --seed 1 --d-model 768 --layers 12 --heads 12 --vocab 50257 --ctx 1024");
        LoadedModel m = load_model(dir);
        std::unique_ptr<Tokenizer> gpt2 = load_hf_tokenizer(std::string(HEADSCOPE_SHARED_DIR) + "/tokenizers/gpt2");
        const std::vector<TokenizedPrompt> prompts = ioi_prompts(*gpt2, n_prompts);
        const ModelConfig& cfg = m.model->config();
        const int64_t N = static_cast<int64_t>(prompts.size()), T = static_cast<int64_t>(prompts[0].ids.size());
        fmt::print("bench_intervention_sweep: GPT-2-small-shaped random checkpoint ({} layers x {} heads, d_model {}, vocab {}), "
                   "{} IOI-style prompts of {} tokens, {} thread(s)\n",
                   cfg.n_layers, cfg.n_heads, cfg.d_model, cfg.d_vocab, N, T, torch::get_num_threads());
        std::vector<int64_t> flat, ans, alt;
        for (const auto& p : prompts) {
            flat.insert(flat.end(), p.ids.begin(), p.ids.end());
            ans.push_back(p.answer_id);
            alt.push_back(p.alternative_id);
        }
        const torch::Tensor tokens = torch::tensor(flat, torch::kLong).view({N, T});
        const torch::Tensor ans_t = torch::tensor(ans, torch::kLong), alt_t = torch::tensor(alt, torch::kLong);
        std::vector<HeadRef> heads;
        for (int l = 0; l < cfg.n_layers; ++l)
            for (int h = 0; h < cfg.n_heads; ++h) heads.push_back({l, h});
        const size_t n_heads = heads.size();
        torch::NoGradGuard no_grad;
        auto logit_diff = [&](const torch::Tensor& last /* [N, V] */) {
            return (last.gather(1, ans_t.unsqueeze(1)) - last.gather(1, alt_t.unsqueeze(1))).squeeze(1).to(torch::kDouble);
        };
        const torch::Tensor clean = logit_diff(m.model->forward(tokens).select(1, -1));

        auto t0 = std::chrono::steady_clock::now();
        if (activation) {
            // (1a) the sweep engine.
            m.model->forward(tokens);  // warm-up
            t0 = std::chrono::steady_clock::now();
            std::vector<double> swept(n_heads, 0.0);
            HeadSweep sweep(*m.model, tokens);
            sweep.run(heads, SweepEdit::zero(), [&](size_t first, const at::Tensor& logits) {
                for (int64_t c = 0; c < logits.size(0); ++c)
                    swept[first + static_cast<size_t>(c)] = (logit_diff(logits[c].select(1, 0)) - clean).mean().item<double>();
            });
            const double t_sweep = seconds_since(t0);
            fmt::print("\n(1) zero ablation of all {} heads\n", n_heads);
            fmt::print("  headscope HeadSweep                       {:8.2f} s  ({} candidates per pass)\n", t_sweep,
                       sweep.candidates_per_pass());

            if (plain) {
                t0 = std::chrono::steady_clock::now();
                double diff = 0;
                for (size_t i = 0; i < n_heads; ++i) {
                    torch::Tensor logits = m.model->run_with_hooks(tokens, {zero_heads_hook(heads[i].layer, {heads[i].head})});
                    diff = std::max(diff, std::abs((logit_diff(logits.select(1, -1)) - clean).mean().item<double>() - swept[i]));
                }
                const double t_plain = seconds_since(t0);
                fmt::print("  headscope one hooked forward per head     {:8.2f} s  ratio {:.2f}x  (max |effect diff| {:.2g})\n",
                           t_plain, t_plain / t_sweep, diff);
            }
            if (peer) {
                const std::string file = "/tmp/headscope-bench-sweep-prompts.json";
                nlohmann::json j;
                std::vector<std::vector<int64_t>> rows;
                for (const auto& p : prompts) rows.emplace_back(p.ids.begin(), p.ids.end());
                j["ids"] = rows;
                j["answer"] = ans;
                j["alternative"] = alt;
                std::ofstream(file) << j.dump();
                nlohmann::json out = nlohmann::json::parse(run_capture(python + " " + source + "/bench/python_sweep_peer.py " + dir + " " +
                                                                       file + " " + std::to_string(torch::get_num_threads())));
                const double t_peer = out["seconds"].get<double>();
                double diff = 0;
                for (size_t i = 0; i < n_heads; ++i) diff = std::max(diff, std::abs(out["effects"][i].get<double>() - swept[i]));
                fmt::print("  PyTorch-Python, TransformerLens-style     {:8.2f} s  ratio {:.2f}x  (max |effect diff| {:.2g})\n",
                           t_peer, t_peer / t_sweep, diff);
                std::filesystem::remove(file);
            }
        }

        if (patching) {
            AnalysisRegistry registry;
            register_plugin(registry, headscope_builtin_plugin_info(), "built-in");
            Quiet quiet;
            t0 = std::chrono::steady_clock::now();
            Result attr = run_analysis(registry, {"head_attribution", {{"parts", "attribution_patching"}}}, *m.model, *gpt2,
                                       prompts, quiet);
            const double t_attr = seconds_since(t0);
            fmt::print("\n(2) patching every head, clean -> corrupted (ABC), all positions\n");
            fmt::print("  attribution patching (1 fwd + 1 bwd per prompt)   {:8.2f} s\n", t_attr);
            if (!attr.error.empty()) throw std::runtime_error(attr.error);
            if (!activation) {  // profiling: what the clean runs cost (dla reads only them)
                t0 = std::chrono::steady_clock::now();
                Result dla = run_analysis(registry, {"head_attribution", {{"parts", "dla"}}}, *m.model, *gpt2, prompts, quiet);
                fmt::print("  parts=dla alone (its clean runs + DLA)            {:8.2f} s\n", seconds_since(t0));
                return 0;
            }
            t0 = std::chrono::steady_clock::now();
            Result act = run_analysis(registry, {"head_attribution", {{"parts", "activation_patching"}}}, *m.model, *gpt2,
                                      prompts, quiet);
            const double t_act = seconds_since(t0);
            if (!act.error.empty()) throw std::runtime_error(act.error);
            const double rho = attribution::spearman(attr.head_grid("attribution_patching")->values,
                                                     act.head_grid("activation_patching")->values);
            fmt::print("  activation patching (HeadSweep, every head)       {:8.2f} s\n", t_act);
            fmt::print("  ratio {:.1f}x; Spearman rho between them {:.3f} over {} heads\n", t_act / t_attr, rho, n_heads);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_intervention_sweep: %s\n", e.what());
        return 1;
    }
    return 0;
}
