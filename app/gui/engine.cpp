#include "engine.hpp"

#include "engine_jobs.hpp"
#include "headscope/report/report.hpp"
#include "headscope/sdk/analysis_runner.hpp"
#include "engine_thread.hpp"

namespace headscope::gui {

namespace {

QString describe(const QString& tag) {
    if (tag == "load") return "Loading the model";
    if (tag == "prompt") return "Running the prompt";
    if (tag == "plugins" || tag == "plugin") return "Loading plugins";
    if (tag == "intervene") return "Re-running with interventions";
    if (tag == "export") return "Writing results";
    if (tag == "report") return "Writing the report";
    if (tag.startsWith("analysis:")) return "Running " + tag.mid(9);
    return {};
}

template <typename T>
std::shared_ptr<const T> share(T&& value) {
    return std::make_shared<const T>(std::forward<T>(value));
}

}  // namespace

Engine::Engine(EngineOptions options, QObject* parent) : QObject(parent), thread_(std::make_unique<EngineThread>()) {
    connect(thread_.get(), &EngineThread::jobStarted, this, &Engine::on_job_started);
    connect(thread_.get(), &EngineThread::jobFinished, this, &Engine::on_job_finished);
    connect(thread_.get(), &EngineThread::progressChanged, this,
            [this](const QString& tag, double fraction, const QString& message) {
                Q_EMIT progress(message.isEmpty() ? describe(tag) : message, fraction);
            });
    connect(thread_.get(), &EngineThread::becameIdle, this, [this] { Q_EMIT busyChanged(false, {}); });
    thread_->start();
    thread_->submit("plugins", [this, dirs = options.plugin_dirs](EngineState& state, JobControl&) {
        init_registry(state, dirs);
        auto snapshot = share(plugins_snapshot(state));
        thread_->deliver(this, [this, snapshot] { Q_EMIT pluginsReported(snapshot); });
    });
}

Engine::~Engine() { thread_->stop(); }

void Engine::load_model(const QString& path, const QString& tokenizer_path) {
    thread_->cancel_running("analysis:");
    thread_->drop_queued("analysis:");
    thread_->submit("load", [this, path = path.toStdString(), tok = tokenizer_path.toStdString()](EngineState& state,
                                                                                               JobControl&) {
        auto summary = share(load_model_into(state, path, tok));
        thread_->deliver(this, [this, summary] { Q_EMIT modelLoaded(summary); });
    });
}

void Engine::run_prompt(const PromptExample& example) {
    thread_->cancel_running("analysis:");
    thread_->drop_queued("analysis:");
    thread_->submit("prompt", [this, example](EngineState& state, JobControl&) {
        auto run = share(run_prompt_in(state, example));
        thread_->deliver(this, [this, run] { Q_EMIT promptRan(run); });
    });
}

void Engine::fetch_pattern(int layer, int head) {
    thread_->submit("pattern", [this, layer, head](EngineState& state, JobControl&) {
        auto pattern = share(head_pattern(state, layer, head));
        thread_->deliver(this, [this, pattern] { Q_EMIT patternReady(pattern); });
    });
}

void Engine::fetch_query_rows(int layer, int query) {
    thread_->submit("rows", [this, layer, query](EngineState& state, JobControl&) {
        auto rows = share(query_rows(state, layer, query));
        thread_->deliver(this, [this, rows] { Q_EMIT queryRowsReady(rows); });
    });
}

void Engine::run_analysis(const std::string& id, const std::map<std::string, std::string>& parameters) {
    thread_->submit("analysis:" + QString::fromStdString(id), [this, id, parameters](EngineState& state, JobControl& control) {
        control.update(0.0, "Running " + id);
        auto result = share(run_analysis_in(state, id, parameters, control));
        const quint64 generation = state.prompt_generation;
        thread_->deliver(this, [this, result, generation] { Q_EMIT resultReady(result, generation); });
    });
}

void Engine::intervene(const std::vector<HeadScale>& scales) {
    const quint64 request = ++intervention_requests_;
    thread_->submit("intervene", [this, scales, request](EngineState& state, JobControl&) {
        InterventionOutcome outcome = intervene_in(state, scales);
        outcome.request = request;
        auto shared = share(std::move(outcome));
        thread_->deliver(this, [this, shared] { Q_EMIT interventionDone(shared); });
    });
}

void Engine::load_plugin(const QString& path) {
    thread_->submit("plugin", [this, path = path.toStdString()](EngineState& state, JobControl&) {
        load_plugin_into(state, path);
        auto snapshot = share(plugins_snapshot(state));
        thread_->deliver(this, [this, snapshot] { Q_EMIT pluginsReported(snapshot); });
    });
}

void Engine::export_results(const QString& path, std::vector<Result> results) {
    thread_->submit("export", [this, path, results = std::move(results)](EngineState& state, JobControl&) {
        ResultsFile file;
        file.provenance = provenance_of(state);
        file.results = results;
        write_results_file(path.toStdString(), file);
        thread_->deliver(this, [this, path] { Q_EMIT exported(path); });
    });
}

void Engine::export_report(const QString& html_path, const QString& pdf_path, std::vector<Result> results) {
    thread_->submit("report", [this, html_path, pdf_path, results = std::move(results)](EngineState& state,
                                                                                          JobControl&) {
        ResultsFile file;
        file.provenance = provenance_of(state);
        file.results = results;
        if (state.loaded)  // the head cards' patterns, on the GUI's prompt
            file.card_patterns = head_card_patterns(*state.loaded->model, state.prompts, file.results);
        write_report_files(file, html_path.toStdString(), pdf_path.toStdString());
        const QString shown = html_path.isEmpty() ? pdf_path : html_path;
        thread_->deliver(this, [this, shown] { Q_EMIT exported(shown); });
    });
}

void Engine::cancel() {
    thread_->drop_queued("analysis:");
    thread_->cancel_running();
}

bool Engine::idle() const { return thread_->idle(); }

void Engine::on_job_started(const QString& tag) {
    const QString what = describe(tag);
    if (!what.isEmpty()) Q_EMIT busyChanged(true, what);
}

void Engine::on_job_finished(const QString& tag, bool cancelled, const QString& error) {
    if (cancelled) {
        Q_EMIT progress(describe(tag) + ": cancelled", 1.0);
        return;
    }
    if (!error.isEmpty()) Q_EMIT failed(tag, error);
}

}  // namespace headscope::gui
