// headscope eval [MODEL] --prompts FILE.jsonl [--prompts ...] [--intervene SPEC]... [--json]
// With --intervene: accuracy, mean logit difference and mean loss without and with the edits.
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli_common.hpp"
#include "headscope/task_eval.hpp"
#include "headscope/tutorial_tasks.hpp"
#include "intervene_option.hpp"

namespace headscope::cli {

namespace {
struct EvalOptions {
    ModelOptions model;
    std::vector<std::string> prompts;
    bool json = false;
    InterveneOptions intervene;
};

nlohmann::ordered_json task_json(const TaskScore& t) {
    return {{"task", t.task},
            {"prompts", t.count},
            {"accuracy", t.accuracy},
            {"mean_logit_diff", t.mean_logit_diff},
            {"mean_loss", t.mean_loss},
            {"with_alternative", t.with_alternative}};
}

// Without and with the edits, per task.
void print_compared(const EvalOptions& o, const LoadedModel& m, const std::vector<TaskScore>& clean,
                    const std::vector<TaskScore>& edited) {
    const std::string edits = edits_text(o.intervene);
    if (o.json) {
        nlohmann::ordered_json j;
        j["model"] = m.path;
        j["interventions"] = edits;
        j["tasks"] = nlohmann::ordered_json::array();
        for (size_t i = 0; i < clean.size(); ++i) {
            nlohmann::ordered_json t = task_json(clean[i]);
            nlohmann::ordered_json e = task_json(edited[i]);
            e.erase("task");
            e.erase("prompts");
            e.erase("with_alternative");
            t["edited"] = e;
            j["tasks"].push_back(t);
        }
        std::cout << j.dump(2) << "\n";
        return;
    }
    std::cout << fmt::format("model: {}\nedits: {}\n", m.path, edits);
    std::cout << fmt::format("{:<26} {:>8} {:>18} {:>22} {:>20}\n", "task", "prompts", "accuracy", "mean logit diff",
                             "mean loss");
    for (size_t i = 0; i < clean.size(); ++i) {
        const TaskScore &a = clean[i], &b = edited[i];
        std::cout << fmt::format("{:<26} {:>8} {:>7.1f}% -> {:>5.1f}% {:>9.3f} -> {:>9.3f} {:>8.3f} -> {:>8.3f}\n", a.task,
                                 a.count, 100 * a.accuracy, 100 * b.accuracy, a.mean_logit_diff, b.mean_logit_diff,
                                 a.mean_loss, b.mean_loss);
    }
}

void run_eval(const EvalOptions& o) {
    parsed_edits(o.intervene);  // a bad spec fails before the model loads
    LoadedModel m = load(o.model);
    std::vector<tutorial::TaskPrompt> prompts;
    for (const std::string& file : o.prompts) {
        std::vector<tutorial::TaskPrompt> p = tutorial::read_prompts_jsonl(file);
        prompts.insert(prompts.end(), p.begin(), p.end());
    }
    const std::vector<TaskScore> scores = evaluate_tasks(*m.model, *m.tokenizer, prompts);
    if (o.intervene.any()) {
        HookScope edits = apply_interventions(o.intervene, *m.model);
        print_compared(o, m, scores, evaluate_tasks(*m.model, *m.tokenizer, prompts));
        return;
    }
    if (o.json) {
        nlohmann::ordered_json j;
        j["model"] = m.path;
        j["tasks"] = nlohmann::ordered_json::array();
        for (const TaskScore& t : scores) j["tasks"].push_back(task_json(t));
        std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
        return;
    }
    std::cout << fmt::format("model: {}\n", m.path);
    std::cout << fmt::format("{:<26} {:>8} {:>10} {:>16} {:>10}\n", "task", "prompts", "accuracy", "mean logit diff",
                             "mean loss");
    for (const TaskScore& t : scores)
        std::cout << fmt::format("{:<26} {:>8} {:>9.1f}% {:>16.3f} {:>10.3f}\n", t.task, t.count, 100 * t.accuracy,
                                 t.mean_logit_diff, t.mean_loss);
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
    add_intervene_option(*cmd, o->intervene);
    cmd->callback([o] { run_eval(*o); });
}

}  // namespace headscope::cli
