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
#include "headscope/error.hpp"
#include "headscope/sdk/analysis_runner.hpp"
#include "headscope/sdk/result_store.hpp"

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
};

Provenance make_provenance(const LoadedModel& m, const std::vector<PromptExample>& prompts, const std::string& source) {
    Provenance p;
    const ModelConfig& c = m.model->config();
    p.model_path = m.path;
    p.model_sha256 = sha256_of_path(m.path);
    p.model_format = to_string(m.format);
    p.architecture = to_string(c.architecture);
    p.model_facts = {{"model_type", c.model_type},
                     {"n_layers", std::to_string(c.n_layers)},
                     {"n_heads", std::to_string(c.n_heads)},
                     {"n_kv_heads", std::to_string(c.n_kv_heads)},
                     {"d_model", std::to_string(c.d_model)},
                     {"d_head", std::to_string(c.d_head)},
                     {"d_mlp", std::to_string(c.d_mlp)},
                     {"d_vocab", std::to_string(c.d_vocab)},
                     {"parameters", std::to_string(m.model->parameter_count())}};
    for (const auto& e : prompts) p.prompts.push_back(e.prompt);
    p.prompt_source = source;
    p.headscope_version = HEADSCOPE_VERSION;
    p.created_utc = utc_timestamp();
    p.command_line = command_line();
    return p;
}

void print_summary(const Result& r, int top) {
    std::cout << fmt::format("== {} ({})\n", r.analysis_title, r.analysis_id);
    if (!r.error.empty()) {
        std::cout << "   error: " << r.error << "\n";
        return;
    }
    for (const auto& line : r.summary) std::cout << "   " << line << "\n";
    if (!r.summary.empty()) return;
    // Without a summary: the top heads of each head grid.
    for (const auto& item : r.items) {
        const auto* grid = std::get_if<HeadGrid>(&item);
        if (!grid) continue;
        std::vector<std::pair<double, int>> order;
        for (int i = 0; i < grid->layers * grid->heads; ++i) order.push_back({grid->values[static_cast<size_t>(i)], i});
        auto key = [&](const std::pair<double, int>& p) { return grid->scale == Scale::diverging ? std::abs(p.first) : p.first; };
        std::sort(order.begin(), order.end(), [&](const auto& a, const auto& b) { return key(a) > key(b); });
        std::string heads;
        for (int i = 0; i < std::min<int>(top, static_cast<int>(order.size())); ++i)
            heads += fmt::format("{}{}.{} {:.3g}", i ? ", " : "", order[static_cast<size_t>(i)].second / grid->heads,
                                 order[static_cast<size_t>(i)].second % grid->heads, order[static_cast<size_t>(i)].first);
        std::cout << fmt::format("   {}: {}\n", grid->title, heads);
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
    LoadedModel m = load(o.model);
    std::vector<TokenizedPrompt> prompts = tokenize_prompts(*m.tokenizer, examples);
    std::signal(SIGINT, on_sigint);

    ResultsFile file;
    file.provenance = make_provenance(m, examples, source);
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
        print_summary(result, o.top);
        file.results.push_back(std::move(result));
        write_results_file(o.out, file);  // after every analysis: an interruption keeps what is done
    }
    if (file.results.empty()) throw Error("no analysis completed; nothing written");
    std::cout << fmt::format("wrote {} ({} analyses)\n", o.out, file.results.size());
    if (!o.report.empty() || !o.pdf.empty()) write_report(o.out, o.report, o.pdf);
    if (g_interrupted) throw Error("interrupted");
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
    cmd->callback([opts, prompt] {
        opts->has_prompt = prompt->count() > 0;
        run_analyze(*opts);
    });
}

}  // namespace headscope::cli
