// headscope generate MODEL --prompt TEXT --max-tokens N [--temperature T] [--seed S]
#include <iostream>

#include "cli_common.hpp"
#include "headscope/error.hpp"
#include "headscope/generation.hpp"
#include "intervene_option.hpp"

namespace headscope::cli {

namespace {
struct GenerateCliOptions {
    ModelOptions model;
    PromptOptions prompt;
    GenerateOptions gen;
    bool ids = false;
    InterveneOptions intervene;
};

void run_generate(const GenerateCliOptions& o) {
    parsed_edits(o.intervene);  // a bad spec fails before the model loads
    LoadedModel m = load(o.model);
    HookScope edits = apply_interventions(o.intervene, *m.model);
    std::vector<int32_t> ids = prompt_ids(*m.tokenizer, o.prompt);
    std::vector<int32_t> all = ids;
    std::string printed;
    // Stream: decode everything so far and print what is new (pieces may join into one glyph).
    auto on_token = [&](int32_t id) {
        all.push_back(id);
        std::string text = m.tokenizer->decode(all);
        std::string prefix = m.tokenizer->decode(ids);
        std::string continuation = text.substr(std::min(prefix.size(), text.size()));
        if (continuation.size() > printed.size() && continuation.compare(0, printed.size(), printed) == 0) {
            std::cout << continuation.substr(printed.size()) << std::flush;
            printed = continuation;
        }
    };
    if (!o.ids) std::cout << o.prompt.prompt << std::flush;
    std::vector<int32_t> out = generate(*m.model, ids, o.gen, o.ids ? std::function<void(int32_t)>() : on_token);
    if (o.ids) {
        for (size_t i = 0; i < out.size(); ++i) std::cout << (i ? " " : "") << out[i];
    }
    std::cout << "\n";
}
}  // namespace

void register_generate(CLI::App& app) {
    auto opts = std::make_shared<GenerateCliOptions>();
    CLI::App* cmd = app.add_subcommand("generate", "continue a prompt (greedy at temperature 0)");
    add_model_options(*cmd, opts->model);
    add_prompt_options(*cmd, opts->prompt, false);
    cmd->add_option("--max-tokens,-n", opts->gen.max_tokens, "tokens to generate")->capture_default_str()->check(CLI::NonNegativeNumber);
    cmd->add_option("--temperature,-t", opts->gen.temperature, "sampling temperature (0 = greedy)")->capture_default_str()->check(CLI::NonNegativeNumber);
    cmd->add_option("--seed", opts->gen.seed, "random seed for sampling")->capture_default_str();
    cmd->add_flag("--ids", opts->ids, "print the generated token ids instead of text");
    add_intervene_option(*cmd, opts->intervene);
    cmd->callback([opts] { run_generate(*opts); });
}

}  // namespace headscope::cli
