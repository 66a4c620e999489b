// Pieces shared by the headscope CLI's commands: model options, tokenizing prompts, output.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "headscope/model_loader.hpp"

namespace headscope::cli {

struct ModelOptions {
    std::string model;
    std::string tokenizer;
    std::string device = "cpu";
    std::string dtype = "float32";
    int threads = 0;
};

// Adds MODEL (positional) and --tokenizer/--device/--dtype/--threads to a subcommand.
void add_model_options(CLI::App& command, ModelOptions& options);
LoadedModel load(const ModelOptions& options);

struct PromptOptions {
    std::string prompt;
    bool no_bos = false;
};
void add_prompt_options(CLI::App& command, PromptOptions& options, bool required);
// The prompt's ids, with BOS unless --no-bos; an empty prompt gives [BOS].
std::vector<int32_t> prompt_ids(const Tokenizer& tokenizer, const PromptOptions& options);

void register_info(CLI::App& app);
void register_tokenize(CLI::App& app);
void register_generate(CLI::App& app);
void register_run(CLI::App& app);

}  // namespace headscope::cli
