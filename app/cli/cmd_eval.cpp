// headscope eval [MODEL] --prompts FILE.jsonl [--prompts ...] [--json]
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli_common.hpp"
#include "headscope/task_eval.hpp"
#include "headscope/tutorial_tasks.hpp"

namespace headscope::cli {

namespace {
struct EvalOptions {
    ModelOptions model;
    std::vector<std::string> prompts;
    bool json = false;
};

void run_eval(const EvalOptions& o) {
    LoadedModel m = load(o.model);
    std::vector<tutorial::TaskPrompt> prompts;
    for (const std::string& file : o.prompts) {
        std::vector<tutorial::TaskPrompt> p = tutorial::read_prompts_jsonl(file);
        prompts.insert(prompts.end(), p.begin(), p.end());
    }
    const std::vector<TaskScore> scores = evaluate_tasks(*m.model, *m.tokenizer, prompts);
    if (o.json) {
        nlohmann::ordered_json j;
        j["model"] = m.path;
        j["tasks"] = nlohmann::ordered_json::array();
        for (const TaskScore& t : scores)
            j["tasks"].push_back({{"task", t.task},
                                  {"prompts", t.count},
                                  {"accuracy", t.accuracy},
                                  {"mean_logit_diff", t.mean_logit_diff},
                                  {"with_alternative", t.with_alternative}});
        std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
        return;
    }
    std::cout << fmt::format("model: {}\n", m.path);
    std::cout << fmt::format("{:<26} {:>8} {:>10} {:>16}\n", "task", "prompts", "accuracy", "mean logit diff");
    for (const TaskScore& t : scores)
        std::cout << fmt::format("{:<26} {:>8} {:>9.1f}% {:>16.3f}\n", t.task, t.count, 100 * t.accuracy,
                                 t.mean_logit_diff);
}
}  // namespace

void register_eval(CLI::App& app) {
    auto o = std::make_shared<EvalOptions>();
    CLI::App* cmd = app.add_subcommand("eval", "accuracy and mean logit difference of a model on task prompt files");
    add_model_options(*cmd, o->model);
    cmd->add_option("--prompts", o->prompts, "a JSONL prompt file (repeatable), e.g. data/prompts/ioi.jsonl")
        ->required()
        ->check(CLI::ExistingFile);
    cmd->add_flag("--json", o->json, "print JSON instead of a table");
    cmd->callback([o] { run_eval(*o); });
}

}  // namespace headscope::cli
