// Session: the GUI thread's picture of the work — the loaded model, the prompt's run, every
// analysis result, the selection (layer, head, query token) and the head interventions. Views
// observe its signals and change it only through its methods; it turns changes into engine
// requests (fetch the selected head's pattern, re-run with interventions, ...).
#pragma once

#include <QObject>
#include <QString>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine_types.hpp"

namespace headscope::gui {

class Engine;

// A HeadGrid inside some result, named "analysis_id/item_key".
struct GridRef {
    std::string analysis_id;
    std::string item_key;
    std::string key() const { return analysis_id + "/" + item_key; }
};

class Session : public QObject {
    Q_OBJECT
public:
    explicit Session(Engine& engine, QObject* parent = nullptr);

    Engine& engine() { return engine_; }

    // --- actions ---
    void open_model(const QString& path, const QString& tokenizer_path = {});
    void run_prompt(const PromptExample& example);
    void rerun_prompt();
    void run_analyses();  // every registered analysis, on the current prompt
    void run_analysis(const std::string& id);
    // Parameters (name -> text) used whenever the analysis runs; empty restores its defaults.
    void set_analysis_parameters(const std::string& id, std::map<std::string, std::string> parameters);
    const std::map<std::string, std::string>& analysis_parameters(const std::string& id) const;
    const AnalysisSummary* analysis_info(const std::string& id) const;
    void select_head(int layer, int head);
    void select_query(int query);
    void set_head_scale(int layer, int head, double factor);
    void set_head_scales(const std::vector<HeadScale>& scales);  // replaces all
    void reset_interventions();
    void cancel();
    void set_auto_analyses(bool on) { auto_analyses_ = on; }

    // --- state ---
    const ModelSummary* model() const { return model_.get(); }
    const PromptRun* run() const { return run_.get(); }
    std::shared_ptr<const PromptRun> run_shared() const { return run_; }
    const PluginsSnapshot* plugins() const { return plugins_.get(); }
    const std::map<std::string, std::shared_ptr<const Result>>& results() const { return results_; }
    const Result* result(const std::string& analysis_id) const;
    const HeadGrid* grid(const GridRef& ref) const;
    std::vector<GridRef> grid_choices() const;  // every HeadGrid of every result, prompt stats first
    std::vector<std::string> pending_analyses() const;

    int layer() const { return layer_; }
    int head() const { return head_; }
    int query() const { return query_; }
    // The selected head's pattern / the selected layer's rows at the query, once fetched.
    std::shared_ptr<const HeadPattern> pattern() const { return pattern_; }
    std::shared_ptr<const QueryRows> query_rows() const { return rows_; }

    double head_scale(int layer, int head) const;
    std::vector<HeadScale> intervention_scales() const;  // factors != 1 only
    std::shared_ptr<const InterventionOutcome> outcome() const { return outcome_; }
    bool busy() const { return busy_; }
    bool loading() const { return loading_; }

Q_SIGNALS:
    void pluginsChanged();
    void modelLoaded();
    void promptRan();
    void resultsChanged(const QString& analysis_id);  // empty: results were cleared
    void selectionChanged();
    void patternChanged();
    void queryRowsChanged();
    void interventionsChanged();
    void outcomeChanged();
    void busyChanged(bool busy, const QString& what);
    void progress(const QString& message, double fraction);
    void failed(const QString& what, const QString& message);

private:
    void on_model_loaded(std::shared_ptr<const ModelSummary> model);
    void on_prompt_ran(std::shared_ptr<const PromptRun> run);
    void on_result(std::shared_ptr<const Result> result, quint64 generation);
    void request_views();
    void request_intervention();
    void clamp_selection();

    Engine& engine_;
    std::shared_ptr<const ModelSummary> model_;
    std::shared_ptr<const PromptRun> run_;
    std::shared_ptr<const PluginsSnapshot> plugins_;
    std::map<std::string, std::shared_ptr<const Result>> results_;
    std::map<std::string, std::map<std::string, std::string>> parameters_;
    std::vector<std::string> pending_;
    std::shared_ptr<const HeadPattern> pattern_;
    std::shared_ptr<const QueryRows> rows_;
    std::map<std::pair<int, int>, double> scales_;
    std::shared_ptr<const InterventionOutcome> outcome_;
    std::optional<PromptExample> queued_prompt_;  // run once the model has loaded
    int layer_ = 0;
    int head_ = 0;
    int query_ = -1;  // -1: the last token
    bool auto_analyses_ = true;
    bool busy_ = false;
    bool loading_ = false;  // a model load is queued or running
};

}  // namespace headscope::gui
