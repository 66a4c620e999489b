#include "circuit_view.hpp"

#include "headscope/sdk/head_ref.hpp"

#include <QLabel>
#include <QSplitter>
#include <QTabWidget>
#include <QTableWidget>
#include <QVBoxLayout>

#include "color_map.hpp"
#include "graph_view.hpp"
#include "head_items.hpp"
#include "result_item_view.hpp"
#include "session.hpp"
#include "spectrum_plot.hpp"

namespace headscope::gui {

namespace {
const char* kSvd = "qk_ov_svd";
const char* kComposition = "composition";
}  // namespace

CircuitView::CircuitView(Session& session, QWidget* parent) : QWidget(parent), session_(session) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    title_ = new QLabel("Circuits");
    QFont f = title_->font();
    f.setBold(true);
    title_->setFont(f);
    layout->addWidget(title_);
    scores_ = new QLabel;
    scores_->setWordWrap(true);
    scores_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(scores_);
    auto* split = new QSplitter(Qt::Vertical);
    auto* top = new QSplitter(Qt::Horizontal);
    spectrum_ = new SpectrumPlot;
    top->addWidget(spectrum_);
    tables_ = new QTabWidget;
    tables_->setDocumentMode(true);
    top->addWidget(tables_);
    top->setSizes({300, 600});
    split->addWidget(top);
    auto* bottom = new QWidget;
    auto* bottom_layout = new QVBoxLayout(bottom);
    bottom_layout->setContentsMargins(0, 0, 0, 0);
    graph_note_ = new QLabel;
    graph_note_->setWordWrap(true);
    bottom_layout->addWidget(graph_note_);
    graph_ = new GraphView;
    bottom_layout->addWidget(graph_, 1);
    split->addWidget(bottom);
    split->setSizes({320, 300});
    layout->addWidget(split, 1);

    connect(graph_, &GraphView::headClicked, &session_, &Session::select_head);
    connect(&session_, &Session::selectionChanged, this, [this] {
        refresh_head();
        graph_->canvas().set_selected(session_.layer(), session_.head());
    });
    connect(&session_, &Session::resultsChanged, this, [this](const QString& id) {
        if (id.isEmpty() || id == kSvd) refresh_head();
        if (id.isEmpty() || id == kComposition) refresh_graph();
    });
    refresh_head();
    refresh_graph();
}

void CircuitView::refresh_head() {
    const int l = session_.layer(), h = session_.head();
    title_->setText(QString::fromStdString(head_label(l, h)) + " circuits — what the head reads (QK) and writes (OV)");
    const Result* svd = session_.result(kSvd);
    const int shown_tab = tables_->currentIndex();
    while (tables_->count() > 0) {
        QWidget* w = tables_->widget(0);
        tables_->removeTab(0);
        delete w;
    }
    if (!svd || !svd->error.empty()) {
        spectrum_->clear();
        QString why = "The qk_ov_svd analysis has no result yet";
        if (svd) why = "qk_ov_svd failed: " + QString::fromStdString(svd->error);
        else if (session_.plugins()) {
            bool registered = false;
            for (const auto& a : session_.plugins()->analyses) registered |= a.id == kSvd;
            if (!registered) why = "No qk_ov_svd analysis is registered";
        }
        scores_->setText(why + ".");
        return;
    }
    if (auto spectrum = head_spectrum(*svd, l, h)) {
        spectrum->title = head_label(l, h) + " singular values";
        spectrum_->set_spectrum(*spectrum);
    } else {
        spectrum_->clear();
    }
    QStringList scores;
    for (const auto& item : svd->items)
        if (const auto* g = std::get_if<HeadGrid>(&item))
            if (l < g->layers && h < g->heads)
                scores << QString("%1: <b>%2</b>").arg(QString::fromStdString(g->title).toHtmlEscaped(), format_value(g->at(l, h)));
    scores_->setText(scores.join(" &nbsp;·&nbsp; "));
    for (const Table& t : head_tables(*svd, l, h)) {
        auto* table = new QTableWidget;
        fill_table(*table, t);
        for (const char* redundant : {"layer", "head"})  // every row is the selected head
            if (const int column = column_index(t, redundant); column >= 0) table->setColumnHidden(column, true);
        const int i = tables_->addTab(table, QString::fromStdString(t.title.empty() ? t.key : t.title));
        tables_->setTabToolTip(i, QString::fromStdString(t.description));
    }
    if (tables_->count() == 0) tables_->addTab(new QLabel("  no per-direction token table for this head"), "Tokens");
    if (shown_tab >= 0 && shown_tab < tables_->count()) tables_->setCurrentIndex(shown_tab);
}

void CircuitView::refresh_graph() {
    const Result* comp = session_.result(kComposition);
    const Graph* graph = nullptr;
    if (comp)
        for (const auto& item : comp->items)
            if (const auto* g = std::get_if<Graph>(&item)) {
                graph = g;
                break;
            }
    if (graph) {
        graph_->set_graph(*graph);
        graph_->canvas().set_selected(session_.layer(), session_.head());
        graph_note_->setText(QString::fromStdString(graph->description));
    } else {
        graph_->set_graph(Graph{});
        graph_note_->setText(comp && !comp->error.empty() ? "composition failed: " + QString::fromStdString(comp->error)
                                                          : QString("The composition graph appears when the composition analysis has run."));
    }
}

}  // namespace headscope::gui
