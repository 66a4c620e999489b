#include "pattern_view.hpp"

#include "headscope/sdk/head_ref.hpp"

#include <QHBoxLayout>
#include <QLabel>
#include <QToolButton>
#include <QVBoxLayout>

#include <cmath>

#include "color_map.hpp"
#include "heatmap_view.hpp"
#include "session.hpp"
#include "token_strip.hpp"

namespace headscope::gui {

PatternView::PatternView(Session& session, QWidget* parent) : QWidget(parent), session_(session) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    auto* header = new QHBoxLayout;
    title_ = new QLabel("Attention pattern");
    QFont f = title_->font();
    f.setBold(true);
    title_->setFont(f);
    header->addWidget(title_, 1);
    auto* fit = new QToolButton;
    fit->setText("Fit");
    fit->setToolTip("Show the whole pattern (double-click or 0)");
    auto* zoom_in = new QToolButton;
    zoom_in->setText("+");
    zoom_in->setToolTip("Zoom in (wheel or +)");
    auto* zoom_out = new QToolButton;
    zoom_out->setText("−");
    zoom_out->setToolTip("Zoom out (wheel or -)");
    header->addWidget(zoom_out);
    header->addWidget(zoom_in);
    header->addWidget(fit);
    layout->addLayout(header);
    heatmap_ = new HeatmapView;
    layout->addWidget(heatmap_, 1);
    legend_ = new ColorLegend;
    layout->addWidget(legend_);
    readout_ = new QLabel(" ");
    readout_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(readout_);

    connect(fit, &QToolButton::clicked, heatmap_, &HeatmapView::fit);
    connect(zoom_in, &QToolButton::clicked, this, [this] { heatmap_->zoom_by(1.5, heatmap_->rect().center()); });
    connect(zoom_out, &QToolButton::clicked, this, [this] { heatmap_->zoom_by(1 / 1.5, heatmap_->rect().center()); });
    connect(heatmap_, &HeatmapView::rowClicked, &session_, &Session::select_query);
    connect(heatmap_, &HeatmapView::hovered, this, [this](int row, int col, double v) {
        if (row < 0) {
            readout_->setText(" ");
            return;
        }
        const auto& d = heatmap_->data();
        auto label = [](const QStringList& labels, int i) {
            return i < labels.size() ? QString(" ‘%1’").arg(labels[i].toHtmlEscaped()) : QString();
        };
        const bool masked = d.causal && col > row;
        readout_->setText(QString("query %1%2 → key %3%4: %5")
                              .arg(row)
                              .arg(label(d.row_labels, row))
                              .arg(col)
                              .arg(label(d.col_labels, col))
                              .arg(masked ? QString("masked (future token)") : format_value(v)));
    });
    connect(&session_, &Session::patternChanged, this, &PatternView::refresh);
    connect(&session_, &Session::selectionChanged, this, [this] {
        heatmap_->set_highlight_row(session_.query());
        if (session_.pattern() == nullptr || shown_ != std::make_pair(session_.layer(), session_.head()))
            title_->setText(title_text() + "  (loading…)");
    });
    connect(&session_, &Session::modelLoaded, this, [this] {
        heatmap_->clear();
        shown_ = {-1, -1};
        shown_pattern_.reset();
        title_->setText("Attention pattern");
    });
}

QString PatternView::title_text() const {
    QString t = QString::fromStdString(head_label(session_.layer(), session_.head())) + " attention pattern";
    if (const PromptRun* run = session_.run()) t += QString(" — %1 tokens, rows = query, columns = key").arg(run->ids.size());
    return t;
}

void PatternView::show_pattern(std::shared_ptr<const HeadPattern> pattern, const std::vector<std::string>& tokens) {
    HeatmapData d;
    d.rows = d.cols = pattern->size;
    d.values = std::shared_ptr<const std::vector<float>>(pattern, &pattern->values);  // aliases, no copy
    if (static_cast<int>(tokens.size()) == pattern->size) {
        for (const auto& t : tokens) d.row_labels << chip_text(t);
        d.col_labels = d.row_labels;
    }
    d.row_axis = "query";
    d.col_axis = "key";
    d.causal = true;
    d.range = ValueRange{0.0, 1.0, Scale::sequential};
    heatmap_->set_data(std::move(d));
    legend_->set_range(*heatmap_->data().range);
    shown_ = {pattern->layer, pattern->head};
}

void PatternView::refresh() {
    auto pattern = session_.pattern();
    const PromptRun* run = session_.run();
    if (!pattern || !run || pattern == shown_pattern_.lock()) return;
    shown_pattern_ = pattern;
    show_pattern(pattern, run->tokens);
    heatmap_->set_highlight_row(session_.query());
    title_->setText(title_text());
}

}  // namespace headscope::gui
