// headscope analyze [MODEL] (--prompt TEXT | --prompts FILE.jsonl) --analysis ID[,ID...]
//                   [--set ID.param=value]... --out results.h5
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <iostream>

#include <fmt/format.h>

#include "analysis_setup.hpp"
#include "cli_common.hpp"
#include "intervene_option.hpp"
#include "headscope/error.hpp"
#include "headscope/sdk/analysis_runner.hpp"
#include "headscope/sdk/result_helpers.hpp"
#include "headscope/sdk/result_store.hpp"
#include "headscope/session.hpp"

namespace headscope::cli {

namespace {

std::atomic<bool> g_interrupted{false};
void on_sigint(int) { g_interrupted = true; }

// A progress bar on stderr; Ctrl+C asks the running analysis to stop.
class CliProgress : public Progress {
public:
    explicit CliProgress(std::string label) : label_(std::move(label)), tty_(isatty(STDERR_FILENO)) {}
    ~CliProgress() override {
        if (tty_ && drawn_) std::cerr << "\n";
    }
    void update(double fraction, const std::string& message) override {
        int percent = static_cast<int>(fraction * 100 + 0.5);
        if (!tty_) {
            if (percent / 25 == last_ / 25) return;
            std::cerr << fmt::format("[{}] {:3d}% {}\n", label_, percent, message);
        } else {
            const int width = 30, filled = std::clamp(percent * width / 100, 0, width);
            std::cerr << fmt::format("\r[{}] [{}{}] {:3d}% {:<40.40}", label_, std::string(static_cast<size_t>(filled), '#'),
                                     std::string(static_cast<size_t>(width - filled), '.'), percent, message)
                      << std::flush;
            drawn_ = true;
        }
        last_ = percent;
    }
    bool cancelled() const override { return g_interrupted.load(); }

private:
    std::string label_;
    bool tty_;
    bool drawn_ = false;
    int last_ = -100;
};

struct AnalyzeOptions {
    ModelOptions model;
    std::string prompt;
    bool has_prompt = false;
    std::vector<std::string> prompt_files;
    std::vector<std::string> analyses;
    std::vector<std::string> settings;
    std::vector<std::string> plugin_dirs;
    std::string out;
    std::string report;
    std::string pdf;
    int top = 5;
    InterveneOptions intervene;
};

void print_summary(const Result& r, int top) {
    std::cout << fmt::format("== {} ({})\n", r.analysis_title, r.analysis_id);
    if (!r.error.empty()) {
        std::cout << "   failed (see stderr)\n" << std::flush;
        std::cerr << fmt::format("headscope: error: {}: {}\n", r.analysis_id, r.error);
        return;
    }
    for (const auto& line : r.summary) std::cout << "   " << line << "\n";
    if (!r.summary.empty()) return;
    // Without a summary: the top heads of each head grid.
    for (const auto& item : r.items) {
        const auto* grid = std::get_if<HeadGrid>(&item);
        if (!grid) continue;
        const HeadOrder order = grid->scale == Scale::diverging ? HeadOrder::magnitude : HeadOrder::highest;
        std::cout << fmt::format("   {}: {}\n", grid->title,
                                 top_heads_text(*grid, static_cast<size_t>(std::max(top, 0)), order, "{:.3g}"));
    }
}

void run_analyze(const AnalyzeOptions& o) {
    AnalysisSetup setup = make_analysis_setup(o.plugin_dirs);
    std::vector<AnalysisRequest> requests;
    auto settings = parse_settings(o.settings);
    for (const auto& list : o.analyses) {
        size_t start = 0;
        while (start <= list.size()) {
            size_t comma = list.find(',', start);
            std::string id = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
            if (!id.empty()) {
                setup.registry.info(id);  // unknown ids fail before any work
                requests.push_back(AnalysisRequest{id, settings.count(id) ? settings[id] : std::map<std::string, std::string>{}});
            }
            if (comma == std::string::npos) break;
            start = comma + 1;
        }
    }
    if (requests.empty()) throw UsageError("--analysis: name at least one analysis (see 'headscope analyses')");
    // An analysis that declares a "checkpoint" parameter keeps its partial work next to --out, so
    // the same command run again resumes it (e.g. corpus_influence).
    for (auto& r : requests) {
        const auto& specs = setup.registry.info(r.id).parameters;
        const bool declares = std::any_of(specs.begin(), specs.end(), [](const ParamSpec& p) { return p.name == "checkpoint"; });
        if (declares && !r.parameters.count("checkpoint")) {
            const std::string stem = o.out.size() > 3 && o.out.compare(o.out.size() - 3, 3, ".h5") == 0
                                         ? o.out.substr(0, o.out.size() - 3)
                                         : o.out;
            r.parameters["checkpoint"] = stem + "." + r.id + ".checkpoint.jsonl";
        }
    }
    for (const auto& [id, params] : settings) {
        bool used = false;
        for (const auto& r : requests) used |= r.id == id;
        if (!used) throw UsageError("--set " + id + ".…: '" + id + "' is not among the --analysis list");
        // Validate parameters early.
        ParamValues(id, setup.registry.info(id).parameters, params);
    }

    std::vector<PromptExample> examples;
    std::string source;
    if (o.has_prompt) {
        examples.push_back(PromptExample{"", o.prompt, "", "", ""});
        source = "--prompt";
    }
    for (const auto& f : o.prompt_files) {
        auto more = load_prompt_set(f);
        examples.insert(examples.end(), more.begin(), more.end());
        source += (source.empty() ? "" : ", ") + f;
    }
    check_output_path("--out", o.out);
    if (!o.report.empty()) check_output_path("--report", o.report);
    if (!o.pdf.empty()) check_output_path("--pdf", o.pdf);
    parsed_edits(o.intervene);  // a bad spec fails before the model loads
    LoadedModel m = load(o.model);
    // --intervene: every analysis sees the edited model (its "clean" runs are the edited runs).
    HookScope edits = apply_interventions(o.intervene, *m.model);
    if (o.intervene.any()) std::cout << "analysing the model with edits " << edits_text(o.intervene) << "\n";
    std::vector<TokenizedPrompt> prompts = tokenize_prompts(*m.tokenizer, examples);
    std::signal(SIGINT, on_sigint);

    ResultsFile file;
    std::vector<std::string> texts;
    for (const auto& e : examples) texts.push_back(e.prompt);
    file.provenance = session_provenance(m, texts, source, command_line());
    for (const auto& request : requests) {
        Result result;
        {
            CliProgress progress(request.id);
            try {
                result = run_analysis(setup.registry, request, *m.model, *m.tokenizer, prompts, progress);
            } catch (const Cancelled&) {
                std::cerr << "\nheadscope: interrupted during " << request.id << "; " << file.results.size()
                          << " completed analyses are saved in " << o.out << "\n";
                break;
            }
        }
        if (o.intervene.any()) result.summary.insert(result.summary.begin(), "with head edits " + edits_text(o.intervene));
        print_summary(result, o.top);
        file.results.push_back(std::move(result));
        write_results_file(o.out, file);  // after every analysis: an interruption keeps what is done
    }
    if (file.results.empty()) throw Error("no analysis completed; nothing written");
    std::vector<std::string> failed;
    for (const auto& r : file.results)
        if (!r.error.empty()) failed.push_back(r.analysis_id);
    if (!g_interrupted) {
        // The patterns the report's head cards show (one forward of the representative prompt).
        file.card_patterns = head_card_patterns(*m.model, prompts, file.results);
        if (!file.card_patterns.empty()) write_results_file(o.out, file);
    }
    std::cout << fmt::format("wrote {} ({} analyses{})\n", o.out, file.results.size(),
                             failed.empty() ? "" : fmt::format(", {} failed", failed.size()));
    if (!o.report.empty() || !o.pdf.empty()) write_report(o.out, o.report, o.pdf);
    if (g_interrupted) throw Error("interrupted");
    // A failed analysis fails the command, so that scripts see it; the others are saved above.
    if (!failed.empty())
        throw Error(fmt::format("{} of {} analyses failed: {}", failed.size(), file.results.size(),
                                fmt::join(failed, ", ")));
}

}  // namespace

void register_analyze(CLI::App& app) {
    auto opts = std::make_shared<AnalyzeOptions>();
    CLI::App* cmd = app.add_subcommand("analyze", "run analyses on a prompt or a prompt set and save the results to HDF5");
    add_model_options(*cmd, opts->model);
    auto* prompt = cmd->add_option("--prompt,-p", opts->prompt, "a prompt to analyse");
    cmd->add_option("--prompts", opts->prompt_files, "a prompt set (JSONL, e.g. data/prompts/ioi.jsonl); repeatable")
        ->check(CLI::ExistingFile);
    cmd->add_option("--analysis,-a", opts->analyses, "analysis ids, comma-separated or repeated (see 'headscope analyses')")
        ->required();
    cmd->add_option("--set", opts->settings, "a parameter: ID.PARAM=VALUE (repeatable)");
    cmd->add_option("--plugin-dir", opts->plugin_dirs, "also load plugins from DIR (repeatable)");
    cmd->add_option("--out,-o", opts->out, "results file (.h5), rewritten atomically after each analysis; analyses with a checkpoint "
                    "(corpus_influence) keep it as OUT.<id>.checkpoint.jsonl and resume from it")->required();
    cmd->add_option("--report", opts->report, "also write a self-contained HTML report");
    cmd->add_option("--pdf", opts->pdf, "also write a PDF report");
    cmd->add_option("--top", opts->top, "heads listed per head grid in the summary")->capture_default_str();
    add_intervene_option(*cmd, opts->intervene);
    cmd->callback([opts, prompt] {
        opts->has_prompt = prompt->count() > 0;
        run_analyze(*opts);
    });
}

}  // namespace headscope::cli
