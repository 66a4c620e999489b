// headscope run MODEL --prompt TEXT [--cache GLOB]... --out FILE.h5
#include <torch/torch.h>

#include <iostream>

#include <fmt/format.h>

#include "cli_common.hpp"
#include "headscope/error.hpp"
#include "headscope/run_store.hpp"
#include "headscope/sdk/result_helpers.hpp"

namespace headscope::cli {

namespace {
struct RunOptions {
    ModelOptions model;
    PromptOptions prompt;
    std::vector<std::string> cache;
    std::string out;
};

void run_run(const RunOptions& o) {
    check_output_path("--out", o.out);
    LoadedModel m = load(o.model);
    std::vector<int32_t> ids = prompt_ids(*m.tokenizer, o.prompt);
    torch::NoGradGuard no_grad;
    torch::Tensor tokens = torch::tensor(std::vector<int64_t>(ids.begin(), ids.end()), torch::kLong).unsqueeze(0);
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
    save_run(o.out, *m.model, tokens, run, prov);
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
    cmd->callback([opts] { run_run(*opts); });
}

}  // namespace headscope::cli
