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
    double max_memory_gb = 0;       // 0 = what is available now
    std::string weights = "auto";   // auto | resident | streamed
    bool verbose = false;
};

// Adds MODEL (optional positional; empty = the built-in tiny-world model) and --tokenizer/--device/--dtype/--threads to a subcommand.
void add_model_options(CLI::App& command, ModelOptions& options);
LoadedModel load(const ModelOptions& options);
// MODEL, or the built-in model's path when MODEL is empty (UsageError when that is missing).
std::string model_path(const ModelOptions& options);
// The model's tokenizer without reading any weight.
std::shared_ptr<const Tokenizer> load_tokenizer_only(const ModelOptions& options, std::string* resolved = nullptr);
// --device/--dtype/--weights as ComputeOptions (UsageError for unknown values).
ComputeOptions compute_options(const ModelOptions& options);

struct PromptOptions {
    std::string prompt;
    bool no_bos = false;
};
void add_prompt_options(CLI::App& command, PromptOptions& options, bool required);
// The prompt's ids, with BOS unless --no-bos; an empty prompt gives [BOS].
std::vector<int32_t> prompt_ids(const Tokenizer& tokenizer, const PromptOptions& options);

// Checks, before any work, that `path` (the value of `option`) can be written: creates its
// folder when missing; throws UsageError naming the option and the path when it cannot be made,
// is not a folder, is not writable, or `path` itself is a folder.
void check_output_path(const std::string& option, const std::string& path);

// The command line as typed, for provenance (set once by main).
void set_command_line(int argc, char** argv);
const std::string& command_line();

// Renders the report of a results file (HTML and/or PDF; empty path = skip).
void write_report(const std::string& results_h5, const std::string& html, const std::string& pdf);

void register_info(CLI::App& app);
void register_analyses(CLI::App& app);
void register_analyze(CLI::App& app);
void register_report(CLI::App& app);
void register_tokenize(CLI::App& app);
void register_generate(CLI::App& app);
void register_run(CLI::App& app);
void register_train(CLI::App& app);
void register_eval(CLI::App& app);
void register_prompts(CLI::App& app);

}  // namespace headscope::cli
