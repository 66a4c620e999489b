#include "sinks_view.hpp"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QScrollArea>
#include <QSplitter>
#include <QTabWidget>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>

#include "color_map.hpp"
#include "head_grid_view.hpp"
#include "head_items.hpp"
#include "result_item_view.hpp"
#include "session.hpp"
#include "token_strip.hpp"

namespace headscope::gui {

namespace {

const char* kSinks = "attention_sinks";

const TokenScores* received_scores(const Session& session) {
    for (const char* id : {kSinks, kPatternStatistics}) {
        const Result* r = session.result(id);
        if (!r || !r->error.empty()) continue;
        for (const auto& item : r->items)
            if (const auto* ts = std::get_if<TokenScores>(&item))
                if (session.run() && ts->tokens.size() == session.run()->tokens.size()) return ts;
    }
    return nullptr;
}

}  // namespace

std::set<int> sink_positions(const Session& session) {
    std::set<int> out;
    const PromptRun* run = session.run();
    if (!run) return out;
    const int n = static_cast<int>(run->tokens.size());
    if (const Result* r = session.result(kSinks); r && r->error.empty()) {
        for (const auto& item : r->items)
            if (const auto* t = std::get_if<Table>(&item))
                for (int p : listed_positions(*t))
                    if (p >= 0 && p < n) out.insert(p);
        if (!out.empty()) return out;
    }
    const TokenScores* ts = received_scores(session);
    if (!ts || ts->scores.empty()) return out;
    std::vector<double> sorted = ts->scores;
    std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(sorted.size() / 2), sorted.end());
    const double median = sorted[sorted.size() / 2];
    out.insert(0);
    for (int i = 1; i < static_cast<int>(ts->scores.size()); ++i)
        if (ts->scores[static_cast<size_t>(i)] >= std::max(3 * median, 0.1)) out.insert(i);
    return out;
}

SinksView::SinksView(Session& session, QWidget* parent) : QWidget(parent), session_(session) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    auto* title = new QLabel("Attention sinks — tokens that soak up attention, and the heads that use them");
    QFont f = title->font();
    f.setBold(true);
    title->setFont(f);
    layout->addWidget(title);
    source_ = new QLabel;
    source_->setWordWrap(true);
    source_->setForegroundRole(QPalette::PlaceholderText);
    layout->addWidget(source_);

    auto* split = new QSplitter(Qt::Vertical);
    auto* strip_box = new QWidget;
    auto* strip_layout = new QVBoxLayout(strip_box);
    strip_layout->setContentsMargins(0, 0, 0, 0);
    auto* scroll = new QScrollArea;
    scroll->setWidgetResizable(true);
    strip_ = new TokenStrip;
    scroll->setWidget(strip_);
    strip_layout->addWidget(scroll, 1);
    strip_legend_ = new ColorLegend;
    strip_layout->addWidget(strip_legend_);
    split->addWidget(strip_box);

    auto* grid_box = new QWidget;
    auto* grid_layout = new QVBoxLayout(grid_box);
    grid_layout->setContentsMargins(0, 0, 0, 0);
    auto* row = new QHBoxLayout;
    row->addWidget(new QLabel("Per-head share"));
    grid_choice_ = new QComboBox;
    row->addWidget(grid_choice_, 1);
    grid_layout->addLayout(row);
    grid_ = new HeadGridView;
    grid_layout->addWidget(grid_, 1);
    grid_legend_ = new ColorLegend;
    grid_layout->addWidget(grid_legend_);
    split->addWidget(grid_box);

    tables_ = new QTabWidget;
    tables_->setDocumentMode(true);
    split->addWidget(tables_);
    split->setSizes({110, 300, 160});
    layout->addWidget(split, 1);

    connect(strip_, &TokenStrip::tokenClicked, &session_, &Session::select_query);
    connect(grid_, &HeadGridView::headClicked, &session_, &Session::select_head);
    connect(grid_choice_, &QComboBox::currentIndexChanged, this, &SinksView::show_grid);
    connect(grid_choice_, &QComboBox::activated, this, [this] { user_choice_ = true; });
    connect(&session_, &Session::selectionChanged, this, [this] {
        grid_->set_selected(session_.layer(), session_.head());
        strip_->set_selected(session_.query());
    });
    connect(&session_, &Session::resultsChanged, this, [this](const QString& id) {
        if (id.isEmpty() || id == kSinks || id == kPatternStatistics) refresh();
    });
    connect(&session_, &Session::promptRan, this, &SinksView::refresh);
    refresh();
}

void SinksView::refresh() {
    const PromptRun* run = session_.run();
    const Result* sinks = session_.result(kSinks);
    const bool have = sinks && sinks->error.empty();
    if (have)
        source_->setText(QString::fromStdString(sinks->summary.empty() ? std::string("From attention_sinks.")
                                                                      : sinks->summary.front()));
    else
        source_->setText(sinks ? "attention_sinks failed: " + QString::fromStdString(sinks->error) +
                                     " — showing this prompt's own pattern statistics."
                               : QString("Showing this prompt's own pattern statistics until attention_sinks has run."));
    if (run) {
        strip_->set_tokens(run->tokens, run->ids, run->predictions);
        if (const TokenScores* ts = received_scores(session_)) {
            strip_->set_scores(ts->scores, ts->scale);
            strip_legend_->set_range(ValueRange::of(ts->scores, ts->scale));
            strip_legend_->setToolTip(QString::fromStdString(ts->description));
        }
        strip_->set_marked(sink_positions(session_), "attention sink");
        strip_->set_selected(session_.query());
    } else {
        strip_->clear();
    }

    // attention_sinks' grids come first; keep another only when the user picked it.
    const QString keep = user_choice_ ? grid_choice_->currentData().toString() : QString();
    grid_choice_->blockSignals(true);
    grid_choice_->clear();
    for (const char* id : {kSinks, kPatternStatistics}) {
        const Result* r = session_.result(id);
        if (!r || !r->error.empty()) continue;
        for (const auto& item : r->items)
            if (const auto* g = std::get_if<HeadGrid>(&item)) {
                if (std::string(id) == kPatternStatistics && g->key != "first_token_share") continue;
                grid_choice_->addItem(QString::fromStdString(g->title), QString::fromStdString(std::string(id) + "/" + g->key));
            }
    }
    const int i = grid_choice_->findData(keep);
    grid_choice_->setCurrentIndex(i >= 0 ? i : 0);
    grid_choice_->blockSignals(false);
    show_grid();

    while (tables_->count() > 0) {
        QWidget* w = tables_->widget(0);
        tables_->removeTab(0);
        delete w;
    }
    if (have)
        for (const auto& item : sinks->items)
            if (const auto* t = std::get_if<Table>(&item)) {
                auto* table = new QTableWidget;
                fill_table(*table, *t);
                const int index = tables_->addTab(table, QString::fromStdString(t->title));
                tables_->setTabToolTip(index, QString::fromStdString(t->description));
            }
    tables_->setVisible(tables_->count() > 0);
}

void SinksView::show_grid() {
    const std::string key = grid_choice_->currentData().toString().toStdString();
    const size_t slash = key.find('/');
    const HeadGrid* g = slash == std::string::npos ? nullptr : session_.grid(GridRef{key.substr(0, slash), key.substr(slash + 1)});
    grid_->set_grid(g);
    grid_->set_selected(session_.layer(), session_.head());
    grid_legend_->set_range(grid_->range());
}

}  // namespace headscope::gui
