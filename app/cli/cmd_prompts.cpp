// headscope prompts --out DIR [--seed S] [--count N] [--task T ...]
#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "cli_common.hpp"
#include "headscope/error.hpp"
#include "headscope/tutorial_tasks.hpp"

namespace headscope::cli {

namespace {
struct PromptsOptions {
    std::string out = "data/prompts";
    uint64_t seed = tutorial::kDefaultPromptSeed;
    int count = tutorial::kDefaultPromptCount;
    std::vector<std::string> tasks;
};

void run_prompts(const PromptsOptions& o) {
    std::error_code ec;
    std::filesystem::create_directories(o.out, ec);
    if (ec) throw IoError(fmt::format("{}: cannot create directory: {}", o.out, ec.message()));
    const std::vector<std::string>& tasks = o.tasks.empty() ? tutorial::task_names() : o.tasks;
    for (const std::string& task : tasks) {
        std::vector<tutorial::TaskPrompt> prompts = tutorial::make_task_prompts(task, o.seed, o.count);
        const std::string path = (std::filesystem::path(o.out) / (task + ".jsonl")).string();
        tutorial::write_prompts_jsonl(path, prompts);
        std::cout << fmt::format("{:<40} {} prompts\n", path, prompts.size());
    }
}
}  // namespace

void register_prompts(CLI::App& app) {
    auto o = std::make_shared<PromptsOptions>();
    CLI::App* cmd = app.add_subcommand(
        "prompts", "generate the held-out task prompt sets (ioi, laundry_list, capitals, capitals_counterfactual, induction, capitals_context)");
    cmd->add_option("--out", o->out, "output folder, one <task>.jsonl per task")->capture_default_str();
    cmd->add_option("--seed", o->seed, "random seed")->capture_default_str();
    cmd->add_option("--count", o->count, "prompts per task (capitals: at most 2 per country)")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    cmd->add_option("--task", o->tasks, "only these tasks (repeatable)")->check(CLI::IsMember(tutorial::task_names()));
    cmd->callback([o] { run_prompts(*o); });
}

}  // namespace headscope::cli
