#include "session.hpp"

#include <algorithm>

#include "engine.hpp"

namespace headscope::gui {

Session::Session(Engine& engine, QObject* parent) : QObject(parent), engine_(engine) {
    connect(&engine_, &Engine::pluginsReported, this, [this](std::shared_ptr<const PluginsSnapshot> snapshot) {
        plugins_ = std::move(snapshot);
        Q_EMIT pluginsChanged();
    });
    connect(&engine_, &Engine::modelLoaded, this, &Session::on_model_loaded);
    connect(&engine_, &Engine::promptRan, this, &Session::on_prompt_ran);
    connect(&engine_, &Engine::resultReady, this, &Session::on_result);
    connect(&engine_, &Engine::patternReady, this, [this](std::shared_ptr<const HeadPattern> p) {
        if (!run_ || p->generation != run_->generation || p->layer != layer_ || p->head != head_) return;
        pattern_ = std::move(p);
        Q_EMIT patternChanged();
    });
    connect(&engine_, &Engine::queryRowsReady, this, [this](std::shared_ptr<const QueryRows> r) {
        if (!run_ || r->generation != run_->generation || r->layer != layer_ || r->query != query_) return;
        rows_ = std::move(r);
        Q_EMIT queryRowsChanged();
    });
    connect(&engine_, &Engine::interventionDone, this, [this](std::shared_ptr<const InterventionOutcome> o) {
        if (!run_ || o->generation != run_->generation) return;
        outcome_ = std::move(o);
        Q_EMIT outcomeChanged();
    });
    connect(&engine_, &Engine::busyChanged, this, [this](bool busy, const QString& what) {
        busy_ = busy;
        Q_EMIT busyChanged(busy, what);
    });
    connect(&engine_, &Engine::progress, this, &Session::progress);
    connect(&engine_, &Engine::failed, this, [this](const QString& what, const QString& message) {
        if (what == "load") {
            loading_ = false;
            if (model_) queued_prompt_.reset();  // the previous model stays, with its run
        }
        if (what.startsWith("analysis:")) {
            const std::string id = what.mid(9).toStdString();
            pending_.erase(std::remove(pending_.begin(), pending_.end(), id), pending_.end());
        }
        Q_EMIT failed(what, message);
    });
}

void Session::open_model(const QString& path, const QString& tokenizer_path) {
    if (run_ && !queued_prompt_) queued_prompt_ = run_->example;  // re-run it on the new model
    loading_ = true;
    engine_.load_model(path, tokenizer_path);
}

void Session::run_prompt(const PromptExample& example) {
    if (!model_ || loading_) {
        queued_prompt_ = example;  // runs when the model has loaded
        return;
    }
    engine_.run_prompt(example);
}

void Session::rerun_prompt() {
    if (run_) run_prompt(run_->example);
}

void Session::run_analyses() {
    if (!plugins_ || !run_) return;
    pending_.clear();
    for (const auto& a : plugins_->analyses) {
        if (a.id == kPatternStatistics) continue;  // computed with every prompt run
        engine_.run_analysis(a.id, analysis_parameters(a.id));
        pending_.push_back(a.id);
    }
    Q_EMIT resultsChanged(QString());
}

void Session::run_analysis(const std::string& id) {
    if (!run_) return;
    engine_.run_analysis(id, analysis_parameters(id));
    if (std::find(pending_.begin(), pending_.end(), id) == pending_.end()) pending_.push_back(id);
    Q_EMIT resultsChanged(QString());
}

void Session::set_analysis_parameters(const std::string& id, std::map<std::string, std::string> parameters) {
    if (parameters.empty())
        parameters_.erase(id);
    else
        parameters_[id] = std::move(parameters);
}

const std::map<std::string, std::string>& Session::analysis_parameters(const std::string& id) const {
    static const std::map<std::string, std::string> none;
    auto it = parameters_.find(id);
    return it == parameters_.end() ? none : it->second;
}

const AnalysisSummary* Session::analysis_info(const std::string& id) const {
    if (!plugins_) return nullptr;
    for (const auto& a : plugins_->analyses)
        if (a.id == id) return &a;
    return nullptr;
}

void Session::on_model_loaded(std::shared_ptr<const ModelSummary> model) {
    loading_ = false;
    model_ = std::move(model);
    run_.reset();
    results_.clear();
    pending_.clear();
    pattern_.reset();
    rows_.reset();
    scales_.clear();
    outcome_.reset();
    layer_ = 0;
    head_ = 0;
    query_ = -1;
    Q_EMIT modelLoaded();
    Q_EMIT resultsChanged(QString());
    Q_EMIT interventionsChanged();
    Q_EMIT selectionChanged();
    if (queued_prompt_) {
        engine_.run_prompt(*queued_prompt_);
        queued_prompt_.reset();
    }
}

void Session::on_prompt_ran(std::shared_ptr<const PromptRun> run) {
    run_ = std::move(run);
    // Results of the previous prompt go; those of analyses reading only the weights stay.
    for (auto it = results_.begin(); it != results_.end();) {
        bool weights_only = false;
        if (plugins_)
            for (const auto& a : plugins_->analyses)
                if (a.id == it->first && !a.needs_prompts) weights_only = true;
        if (weights_only)
            ++it;
        else
            it = results_.erase(it);
    }
    results_[kPatternStatistics] = std::make_shared<const Result>(run_->pattern_stats);
    pattern_.reset();
    rows_.reset();
    outcome_.reset();
    query_ = static_cast<int>(run_->ids.size()) - 1;
    clamp_selection();
    request_views();
    Q_EMIT promptRan();
    Q_EMIT selectionChanged();
    Q_EMIT resultsChanged(QString());
    if (auto_analyses_) run_analyses();
    request_intervention();
}

void Session::on_result(std::shared_ptr<const Result> result, quint64 generation) {
    const std::string id = result->analysis_id;
    bool weights_only = false;
    if (plugins_)
        for (const auto& a : plugins_->analyses)
            if (a.id == id && !a.needs_prompts) weights_only = true;
    if (!weights_only && (!run_ || generation != run_->generation)) return;  // for an older prompt
    results_[id] = std::move(result);
    pending_.erase(std::remove(pending_.begin(), pending_.end(), id), pending_.end());
    Q_EMIT resultsChanged(QString::fromStdString(id));
}

const Result* Session::result(const std::string& analysis_id) const {
    auto it = results_.find(analysis_id);
    return it == results_.end() ? nullptr : it->second.get();
}

const HeadGrid* Session::grid(const GridRef& ref) const {
    const Result* r = result(ref.analysis_id);
    return r ? r->head_grid(ref.item_key) : nullptr;
}

std::vector<GridRef> Session::grid_choices() const {
    std::vector<GridRef> out;
    auto add = [&](const Result& r) {
        for (const auto& item : r.items)
            if (const auto* g = std::get_if<HeadGrid>(&item)) out.push_back(GridRef{r.analysis_id, g->key});
    };
    if (const Result* stats = result(kPatternStatistics)) add(*stats);
    for (const auto& [id, r] : results_)
        if (id != kPatternStatistics) add(*r);
    return out;
}

std::vector<std::string> Session::pending_analyses() const { return pending_; }

void Session::clamp_selection() {
    if (!model_) return;
    layer_ = std::clamp(layer_, 0, std::max(0, model_->n_layers - 1));
    head_ = std::clamp(head_, 0, std::max(0, model_->n_heads - 1));
    if (run_) query_ = std::clamp(query_, 0, std::max(0, static_cast<int>(run_->ids.size()) - 1));
}

void Session::select_head(int layer, int head) {
    if (!model_) return;
    const int old_layer = layer_;
    const int old_head = head_;
    layer_ = layer;
    head_ = head;
    clamp_selection();
    if (layer_ == old_layer && head_ == old_head) return;
    if (run_) {
        pattern_.reset();
        engine_.fetch_pattern(layer_, head_);
        if (layer_ != old_layer) {
            rows_.reset();
            engine_.fetch_query_rows(layer_, query_);
        }
    }
    Q_EMIT selectionChanged();
}

void Session::select_query(int query) {
    if (!run_) return;
    const int old = query_;
    query_ = query;
    clamp_selection();
    if (query_ == old) return;
    rows_.reset();
    engine_.fetch_query_rows(layer_, query_);
    Q_EMIT selectionChanged();
}

void Session::request_views() {
    if (!run_) return;
    engine_.fetch_pattern(layer_, head_);
    engine_.fetch_query_rows(layer_, query_);
}

double Session::head_scale(int layer, int head) const {
    auto it = scales_.find({layer, head});
    return it == scales_.end() ? 1.0 : it->second;
}

std::vector<HeadScale> Session::intervention_scales() const {
    std::vector<HeadScale> out;
    for (const auto& [key, factor] : scales_)
        if (factor != 1.0) out.push_back(HeadScale{key.first, key.second, factor});
    return out;
}

void Session::set_head_scale(int layer, int head, double factor) {
    if (!model_ || layer < 0 || head < 0 || layer >= model_->n_layers || head >= model_->n_heads) return;
    factor = std::clamp(factor, 0.0, 2.0);
    if (head_scale(layer, head) == factor) return;
    if (factor == 1.0)
        scales_.erase({layer, head});
    else
        scales_[{layer, head}] = factor;
    Q_EMIT interventionsChanged();
    request_intervention();
}

void Session::set_head_scales(const std::vector<HeadScale>& scales) {
    scales_.clear();
    for (const auto& s : scales)
        if (s.factor != 1.0) scales_[{s.layer, s.head}] = std::clamp(s.factor, 0.0, 2.0);
    Q_EMIT interventionsChanged();
    request_intervention();
}

void Session::reset_interventions() {
    if (scales_.empty()) return;
    scales_.clear();
    Q_EMIT interventionsChanged();
    request_intervention();
}

void Session::request_intervention() {
    if (run_) engine_.intervene(intervention_scales());
}

void Session::cancel() {
    engine_.cancel();
    pending_.clear();
    Q_EMIT resultsChanged(QString());
}

}  // namespace headscope::gui
