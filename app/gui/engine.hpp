// Engine: the GUI thread's handle on the engine thread. Every method only queues a job and
// returns at once; answers arrive as signals on the GUI thread. Requests are tagged by kind
// ("load", "prompt", "pattern", "rows", "analysis:<id>", "intervene", ...): a newer request of a
// tag replaces a queued older one. Torch-free header.
#pragma once

#include <QObject>
#include <QString>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine_types.hpp"

namespace headscope::gui {

class EngineThread;

struct EngineOptions {
    std::vector<std::string> plugin_dirs;  // searched before HEADSCOPE_PLUGIN_PATH and the defaults
};

class Engine : public QObject {
    Q_OBJECT
public:
    explicit Engine(EngineOptions options = {}, QObject* parent = nullptr);
    ~Engine() override;

    void load_model(const QString& path, const QString& tokenizer_path = {});
    // Runs example.prompt; cancels analyses still running or queued for the previous prompt.
    void run_prompt(const PromptExample& example);
    void fetch_pattern(int layer, int head);
    void fetch_query_rows(int layer, int query);
    // parameters: name -> text, over the analysis's defaults.
    void run_analysis(const std::string& id, const std::map<std::string, std::string>& parameters = {});
    void intervene(const std::vector<HeadScale>& scales);
    void load_plugin(const QString& path);
    void export_results(const QString& path, std::vector<Result> results);
    // A self-contained HTML report and/or a PDF (empty path: skipped) of the results.
    void export_report(const QString& html_path, const QString& pdf_path, std::vector<Result> results);
    // Stops the running job and drops queued analyses.
    void cancel();

    bool idle() const;
    EngineThread& thread() { return *thread_; }

Q_SIGNALS:
    void pluginsReported(std::shared_ptr<const PluginsSnapshot> snapshot);
    void modelLoaded(std::shared_ptr<const ModelSummary> model);
    void promptRan(std::shared_ptr<const PromptRun> run);
    void patternReady(std::shared_ptr<const HeadPattern> pattern);
    void queryRowsReady(std::shared_ptr<const QueryRows> rows);
    void resultReady(std::shared_ptr<const Result> result, quint64 prompt_generation);
    void interventionDone(std::shared_ptr<const InterventionOutcome> outcome);
    void exported(const QString& path);
    // A job failed: what = the job's tag, message = the error for people.
    void failed(const QString& what, const QString& message);
    void progress(const QString& message, double fraction);  // fraction < 0: unknown
    void busyChanged(bool busy, const QString& what);

private:
    void on_job_started(const QString& tag);
    void on_job_finished(const QString& tag, bool cancelled, const QString& error);

    std::unique_ptr<EngineThread> thread_;
    quint64 intervention_requests_ = 0;
};

}  // namespace headscope::gui
