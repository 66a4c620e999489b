// headscope run MODEL --prompt TEXT [--cache GLOB]... [--intervene SPEC]... --out FILE.h5
// Writes /loss [batch, pos] (next-token loss of the saved run) and, with --intervene, /loss_clean.
#include <torch/torch.h>

#include <iostream>

#include <fmt/format.h>

#include "cli_common.hpp"
#include "headscope/error.hpp"
#include "headscope/run_store.hpp"
#include "headscope/sdk/result_helpers.hpp"
#include "intervene_option.hpp"

namespace headscope::cli {

namespace {
struct RunOptions {
    ModelOptions model;
    PromptOptions prompt;
    std::vector<std::string> cache;
    std::string out;
    InterveneOptions intervene;
};

// Next-token loss per position: loss[b, t] = -log softmax(logits[b, t])[tokens[b, t + 1]];
// the last position has no next token (NaN).
torch::Tensor per_token_loss(const torch::Tensor& logits, const torch::Tensor& tokens) {
    const int64_t B = logits.size(0), T = logits.size(1);
    torch::Tensor loss = torch::full({B, T}, std::numeric_limits<double>::quiet_NaN(), torch::kDouble);
    if (T > 1) {
        torch::Tensor lp = torch::log_softmax(logits.narrow(1, 0, T - 1).to(torch::kCPU, torch::kDouble), -1);
        torch::Tensor next = tokens.narrow(1, 1, T - 1).to(torch::kCPU, torch::kLong).unsqueeze(-1);
        loss.narrow(1, 0, T - 1).copy_(-lp.gather(-1, next).squeeze(-1));
    }
    return loss;
}

void run_run(const RunOptions& o) {
    check_output_path("--out", o.out);
    parsed_edits(o.intervene);  // a bad spec fails before the model loads
    LoadedModel m = load(o.model);
    std::vector<int32_t> ids = prompt_ids(*m.tokenizer, o.prompt);
    torch::NoGradGuard no_grad;
    torch::Tensor tokens = torch::tensor(std::vector<int64_t>(ids.begin(), ids.end()), torch::kLong).unsqueeze(0);
    // The clean run's loss first; then the edits apply to the saved run.
    std::vector<std::pair<std::string, at::Tensor>> extra;
    torch::Tensor clean_loss;
    if (o.intervene.any()) clean_loss = per_token_loss(m.model->forward(tokens), tokens);
    HookScope edits = apply_interventions(o.intervene, *m.model);
    CachedRun run;
    if (o.cache.empty()) {
        run.logits = m.model->forward(tokens);
    } else {
        // Resolve first so an unknown name fails before any work.
        for (const auto& f : o.cache)
            if (m.model->resolve_hooks(f).empty())
                throw UsageError("--cache " + f + ": no hook point matches (try 'headscope info' for the model's layout; "
                                 "names look like blocks.0.attn.hook_pattern)");
        run = m.model->run_with_cache(tokens, o.cache);
    }
    RunProvenance prov;
    prov.model_path = m.path;
    prov.model_format = to_string(m.format);
    prov.prompt = o.prompt.prompt;
    for (int32_t id : ids) prov.token_texts.push_back(token_label_text(*m.tokenizer, id));
    extra.push_back({"/loss", per_token_loss(run.logits, tokens)});
    if (o.intervene.any()) {
        extra.push_back({"/loss_clean", clean_loss});
        prov.interventions = edits_text(o.intervene);
    }
    save_run(o.out, *m.model, tokens, run, prov, extra);
    if (o.intervene.any()) {
        const double n = static_cast<double>(ids.size() > 1 ? ids.size() - 1 : 1);
        const double edited = ids.size() > 1 ? extra[0].second.narrow(1, 0, static_cast<int64_t>(ids.size()) - 1).sum().item<double>() / n : 0.0;
        const double clean = ids.size() > 1 ? clean_loss.narrow(1, 0, static_cast<int64_t>(ids.size()) - 1).sum().item<double>() / n : 0.0;
        std::cout << fmt::format("edits {}: mean next-token loss {:.4f} -> {:.4f} ({:+.4f})\n", prov.interventions, clean,
                                 edited, edited - clean);
    }
    std::cout << fmt::format("wrote {}: {} tokens, logits [{}, {}, {}], {} activations\n", o.out, ids.size(), 1,
                             ids.size(), m.model->config().d_vocab, run.cache.size());
}
}  // namespace

void register_run(CLI::App& app) {
    auto opts = std::make_shared<RunOptions>();
    CLI::App* cmd = app.add_subcommand("run", "run a prompt and save tokens, logits and chosen activations to HDF5");
    add_model_options(*cmd, opts->model);
    add_prompt_options(*cmd, opts->prompt, true);
    cmd->add_option("--cache", opts->cache,
                    "hook names or globs to save, e.g. 'blocks.*.attn.hook_pattern' (repeatable)");
    cmd->add_option("--out,-o", opts->out, "output .h5 file (written atomically)")->required();
    add_intervene_option(*cmd, opts->intervene);
    cmd->callback([opts] { run_run(*opts); });
}

}  // namespace headscope::cli
