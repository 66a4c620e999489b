#include "intervention_panel.hpp"

#include "headscope/sdk/head_ref.hpp"

#include <QCheckBox>
#include <QComboBox>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QSlider>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>

#include <cmath>

#include "color_map.hpp"
#include "session.hpp"
#include "token_strip.hpp"

namespace headscope::gui {

namespace {

constexpr int kSliderSteps = 100;  // slider value / 100 = factor
constexpr int kTokenRole = Qt::UserRole + 1;

int to_slider(double factor) { return static_cast<int>(std::lround(factor * kSliderSteps)); }
double from_slider(int value) { return static_cast<double>(value) / kSliderSteps; }

QString percent(double p) { return QString::number(p * 100.0, 'f', 2) + "%"; }

QSlider* make_slider() {
    auto* s = new QSlider(Qt::Horizontal);
    s->setRange(0, 2 * kSliderSteps);
    s->setValue(kSliderSteps);
    s->setPageStep(10);
    s->setTickInterval(kSliderSteps / 2);
    s->setTickPosition(QSlider::TicksBelow);
    s->setToolTip("Scale the head's output (z): 0 = ablated, 1 = unchanged, 2 = doubled");
    return s;
}

}  // namespace

InterventionPanel::InterventionPanel(Session& session, QWidget* parent) : QWidget(parent), session_(session) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);

    auto* selected = new QGroupBox("Selected head");
    auto* sel_layout = new QHBoxLayout(selected);
    selected_label_ = new QLabel("—");
    QFont bold = selected_label_->font();
    bold.setBold(true);
    selected_label_->setFont(bold);
    selected_ablate_ = new QCheckBox("Ablate");
    selected_ablate_->setToolTip("Zero the head's output (z) and re-run the prompt");
    selected_scale_ = make_slider();
    selected_value_ = new QLabel("×1.00");
    selected_value_->setMinimumWidth(selected_value_->fontMetrics().horizontalAdvance("×0.00") + 4);
    sel_layout->addWidget(selected_label_);
    sel_layout->addWidget(selected_ablate_);
    sel_layout->addWidget(selected_scale_, 1);
    sel_layout->addWidget(selected_value_);
    layout->addWidget(selected);

    auto* split = new QSplitter(Qt::Vertical);
    heads_ = new QTableWidget;
    heads_->setColumnCount(4);
    heads_->setHorizontalHeaderLabels({"Head", "Ablate", "Scale", "×"});
    heads_->verticalHeader()->setVisible(false);
    heads_->horizontalHeader()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    heads_->horizontalHeader()->setSectionResizeMode(1, QHeaderView::ResizeToContents);
    heads_->horizontalHeader()->setSectionResizeMode(2, QHeaderView::Stretch);
    heads_->horizontalHeader()->setSectionResizeMode(3, QHeaderView::ResizeToContents);
    heads_->setSelectionMode(QAbstractItemView::NoSelection);
    split->addWidget(heads_);

    auto* outcome = new QWidget;
    auto* out_layout = new QVBoxLayout(outcome);
    out_layout->setContentsMargins(0, 0, 0, 0);
    auto* metric_row = new QHBoxLayout;
    metric_ = new QComboBox;
    for (int i = 0; i < kMetricCount; ++i) metric_->addItem(metric_label(static_cast<MetricKind>(i)));
    metric_row->addWidget(new QLabel("Metric"));
    metric_row->addWidget(metric_, 1);
    reset_ = new QPushButton("Reset all heads");
    reset_->setToolTip("Restore every head (no ablation, scale 1)");
    metric_row->addWidget(reset_);
    out_layout->addLayout(metric_row);
    metric_value_ = new QLabel(" ");
    metric_value_->setWordWrap(true);
    metric_value_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    out_layout->addWidget(metric_value_);
    probabilities_ = new QTableWidget;
    probabilities_->setColumnCount(4);
    probabilities_->setHorizontalHeaderLabels({"Next token", "Baseline", "Now", "Change"});
    probabilities_->verticalHeader()->setVisible(false);
    probabilities_->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    probabilities_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    out_layout->addWidget(probabilities_, 1);
    status_ = new QLabel(" ");
    status_->setForegroundRole(QPalette::PlaceholderText);
    out_layout->addWidget(status_);
    split->addWidget(outcome);
    split->setSizes({260, 300});
    layout->addWidget(split, 1);

    connect(selected_ablate_, &QCheckBox::toggled, this, [this](bool on) {
        if (syncing_) return;
        session_.set_head_scale(session_.layer(), session_.head(), on ? 0.0 : 1.0);
    });
    connect(selected_scale_, &QSlider::valueChanged, this, [this](int v) {
        if (syncing_) return;
        session_.set_head_scale(session_.layer(), session_.head(), from_slider(v));
    });
    connect(reset_, &QPushButton::clicked, &session_, &Session::reset_interventions);
    connect(metric_, &QComboBox::currentIndexChanged, this, &InterventionPanel::show_metric);
    connect(&session_, &Session::modelLoaded, this, &InterventionPanel::rebuild_heads);
    connect(&session_, &Session::interventionsChanged, this, &InterventionPanel::sync_controls);
    connect(&session_, &Session::selectionChanged, this, &InterventionPanel::sync_controls);
    connect(&session_, &Session::outcomeChanged, this, &InterventionPanel::show_outcome);
    connect(&session_, &Session::promptRan, this, [this] {
        probabilities_->setRowCount(0);
        metric_value_->setText("re-running…");
    });
    rebuild_heads();
}

int InterventionPanel::row_of(int layer, int head) const { return layer * n_heads_ + head; }

void InterventionPanel::rebuild_heads() {
    const ModelSummary* m = session_.model();
    n_layers_ = m ? m->n_layers : 0;
    n_heads_ = m ? m->n_heads : 0;
    heads_->setRowCount(n_layers_ * n_heads_);
    for (int l = 0; l < n_layers_; ++l)
        for (int h = 0; h < n_heads_; ++h) {
            const int row = row_of(l, h);
            auto* name = new QTableWidgetItem(QString::fromStdString(head_label(l, h)));
            name->setFlags(Qt::ItemIsEnabled);
            heads_->setItem(row, 0, name);
            auto* box = new QCheckBox;
            box->setToolTip("Ablate " + QString::fromStdString(head_label(l, h)));
            heads_->setCellWidget(row, 1, box);
            auto* slider = make_slider();
            heads_->setCellWidget(row, 2, slider);
            auto* value = new QTableWidgetItem("1.00");
            value->setFlags(Qt::ItemIsEnabled);
            value->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
            heads_->setItem(row, 3, value);
            connect(box, &QCheckBox::toggled, this, [this, l, h](bool on) {
                if (!syncing_) session_.set_head_scale(l, h, on ? 0.0 : 1.0);
            });
            connect(slider, &QSlider::valueChanged, this, [this, l, h](int v) {
                if (!syncing_) session_.set_head_scale(l, h, from_slider(v));
            });
        }
    heads_->resizeRowsToContents();
    sync_controls();
}

QCheckBox& InterventionPanel::ablate_checkbox(int layer, int head) {
    return *static_cast<QCheckBox*>(heads_->cellWidget(row_of(layer, head), 1));
}

QSlider& InterventionPanel::scale_slider(int layer, int head) {
    return *static_cast<QSlider*>(heads_->cellWidget(row_of(layer, head), 2));
}

void InterventionPanel::sync_controls() {
    syncing_ = true;
    for (int l = 0; l < n_layers_; ++l)
        for (int h = 0; h < n_heads_; ++h) {
            const double f = session_.head_scale(l, h);
            ablate_checkbox(l, h).setChecked(f == 0.0);
            scale_slider(l, h).setValue(to_slider(f));
            const bool edited = f != 1.0;
            const bool selected = l == session_.layer() && h == session_.head();
            for (int c : {0, 3}) {
                QTableWidgetItem* item = heads_->item(row_of(l, h), c);
                item->setForeground(edited ? QColor(220, 30, 30) : palette().color(QPalette::Text));
                item->setBackground(selected ? palette().color(QPalette::Highlight).lighter(170) : QBrush());
                QFont font = item->font();
                font.setBold(selected || edited);
                item->setFont(font);
            }
            heads_->item(row_of(l, h), 3)->setText(QString::number(f, 'f', 2));
        }
    const double f = session_.head_scale(session_.layer(), session_.head());
    selected_label_->setText(QString::fromStdString(head_label(session_.layer(), session_.head())));
    selected_ablate_->setChecked(f == 0.0);
    selected_scale_->setValue(to_slider(f));
    selected_value_->setText(QString("×%1").arg(f, 0, 'f', 2));
    const int n = static_cast<int>(session_.intervention_scales().size());
    reset_->setEnabled(n > 0);
    if (n_layers_ > 0 && row_of(session_.layer(), session_.head()) < heads_->rowCount())
        heads_->scrollToItem(heads_->item(row_of(session_.layer(), session_.head()), 0));
    syncing_ = false;
}

void InterventionPanel::show_outcome() {
    auto outcome = session_.outcome();
    if (!outcome) return;
    probabilities_->setRowCount(static_cast<int>(outcome->changes.size()));
    for (size_t i = 0; i < outcome->changes.size(); ++i) {
        const auto& c = outcome->changes[i];
        const int row = static_cast<int>(i);
        auto* token = new QTableWidgetItem(chip_text(c.text));
        token->setData(kTokenRole, c.id);
        token->setToolTip(QString("id %1").arg(c.id));
        auto* base = new QTableWidgetItem(percent(c.baseline));
        base->setData(kTokenRole, c.baseline);
        auto* now = new QTableWidgetItem(percent(c.now));
        now->setData(kTokenRole, c.now);
        const double delta = c.now - c.baseline;
        auto* change = new QTableWidgetItem((delta >= 0 ? "+" : "") + QString::number(delta * 100.0, 'f', 2) + " pt");
        if (std::abs(delta) >= 0.0005) change->setForeground(delta > 0 ? QColor(40, 150, 60) : QColor(210, 50, 50));
        for (auto* item : {base, now, change}) item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
        probabilities_->setItem(row, 0, token);
        probabilities_->setItem(row, 1, base);
        probabilities_->setItem(row, 2, now);
        probabilities_->setItem(row, 3, change);
    }
    const auto n = outcome->scales.size();
    status_->setText(QString("%1 · re-ran in %2 ms")
                         .arg(n == 0 ? QString("no heads edited (baseline)") : QString("%1 head(s) edited").arg(n))
                         .arg(outcome->elapsed_ms, 0, 'f', 1));
    show_metric();
}

void InterventionPanel::show_metric() {
    auto outcome = session_.outcome();
    const PromptRun* run = session_.run();
    if (!outcome || !run) return;
    const int i = metric_->currentIndex();
    const double base = outcome->baseline[static_cast<size_t>(i)], now = outcome->now[static_cast<size_t>(i)];
    const auto kind = static_cast<MetricKind>(i);
    const QString target = chip_text(run->target_text).toHtmlEscaped();
    const QString alt = chip_text(run->alternative_text).toHtmlEscaped();
    QString what;
    switch (kind) {
        case MetricKind::target_probability: what = QString("P(‘%1’)").arg(target); break;
        case MetricKind::target_logit: what = QString("logit ‘%1’").arg(target); break;
        case MetricKind::logit_difference: what = QString("logit ‘%1’ − logit ‘%2’").arg(target, alt); break;
        case MetricKind::kl_divergence: what = "KL(baseline ‖ now)"; break;
    }
    auto fmt = [&](double v) { return kind == MetricKind::target_probability ? percent(v) : format_value(v); };
    const double delta = now - base;
    const QString delta_text = kind == MetricKind::target_probability ? QString::number(delta * 100, 'f', 2) + " pt" : format_value(delta);
    metric_value_->setText(QString("%1: baseline <b>%2</b> → now <b>%3</b> (%4%5)")
                               .arg(what, fmt(base), fmt(now), delta >= 0 ? "+" : "", delta_text));
}

QString InterventionPanel::metric_text() const { return metric_value_->text(); }

std::optional<double> InterventionPanel::shown_probability(int32_t token_id) const {
    for (int r = 0; r < probabilities_->rowCount(); ++r)
        if (probabilities_->item(r, 0) && probabilities_->item(r, 0)->data(kTokenRole).toInt() == token_id)
            return probabilities_->item(r, 2)->data(kTokenRole).toDouble();
    return std::nullopt;
}

std::optional<double> InterventionPanel::shown_baseline(int32_t token_id) const {
    for (int r = 0; r < probabilities_->rowCount(); ++r)
        if (probabilities_->item(r, 0) && probabilities_->item(r, 0)->data(kTokenRole).toInt() == token_id)
            return probabilities_->item(r, 1)->data(kTokenRole).toDouble();
    return std::nullopt;
}

}  // namespace headscope::gui
