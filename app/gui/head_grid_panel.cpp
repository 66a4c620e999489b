#include "head_grid_panel.hpp"

#include "headscope/sdk/head_ref.hpp"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QSettings>
#include <QSignalBlocker>
#include <QVBoxLayout>

#include <cmath>

#include "color_map.hpp"
#include "head_grid_view.hpp"
#include "session.hpp"

namespace headscope::gui {

HeadGridPanel::HeadGridPanel(Session& session, QWidget* parent) : QWidget(parent), session_(session) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    auto* controls = new QHBoxLayout;
    choices_ = new QComboBox;
    choices_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    choices_->setMinimumContentsLength(16);
    choices_->setToolTip("Which per-head score to show: every head grid of every analysis result");
    scale_ = new QComboBox;
    scale_->addItems({"Auto colours", "Sequential", "Diverging"});
    scale_->setToolTip("Colour scale: the result's own, sequential (0..max) or diverging (centred on 0)");
    controls->addWidget(new QLabel("Heads by"));
    controls->addWidget(choices_, 1);
    controls->addWidget(scale_);
    layout->addLayout(controls);
    view_ = new HeadGridView;
    layout->addWidget(view_);
    legend_ = new ColorLegend;
    layout->addWidget(legend_);
    readout_ = new QLabel(" ");
    readout_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(readout_);
    description_ = new QLabel;
    description_->setWordWrap(true);
    description_->setForegroundRole(QPalette::PlaceholderText);
    layout->addWidget(description_);
    layout->addStretch(1);

    // Until the user picks one: direct logit attribution, "which heads matter" for the prediction.
    wanted_ = QSettings().value("grid/choice", "head_attribution/dla_heads").toString().toStdString();
    scale_->setCurrentIndex(QSettings().value("grid/scale", 0).toInt());

    connect(choices_, &QComboBox::currentIndexChanged, this, [this] {
        wanted_ = current_choice();
        QSettings().setValue("grid/choice", QString::fromStdString(wanted_));
        show_current();
    });
    connect(scale_, &QComboBox::currentIndexChanged, this, [this](int i) {
        QSettings().setValue("grid/scale", i);
        show_current();
    });
    connect(view_, &HeadGridView::headClicked, &session_, &Session::select_head);
    connect(view_, &HeadGridView::headHovered, this, [this](int l, int h, double v) {
        readout_->setText(l < 0 ? QString(" ") : QString(QString::fromStdString(head_label(l, h)) + ": " + format_value(v)));
    });
    connect(&session_, &Session::resultsChanged, this, &HeadGridPanel::refresh_choices);
    connect(&session_, &Session::selectionChanged, this,
            [this] { view_->set_selected(session_.layer(), session_.head()); });
    connect(&session_, &Session::interventionsChanged, this, &HeadGridPanel::sync_interventions);
    refresh_choices();
}

std::string HeadGridPanel::current_choice() const { return choices_->currentData().toString().toStdString(); }

bool HeadGridPanel::choose(const std::string& key) {
    const int i = choices_->findData(QString::fromStdString(key));
    if (i < 0) {
        wanted_ = key;
        return false;
    }
    choices_->setCurrentIndex(i);
    return true;
}

void HeadGridPanel::refresh_choices() {
    const std::string keep = wanted_;
    {
        QSignalBlocker block(choices_);
        choices_->clear();
        for (const GridRef& ref : session_.grid_choices()) {
            const Result* r = session_.result(ref.analysis_id);
            const HeadGrid* g = session_.grid(ref);
            const QString label = QString::fromStdString(r->analysis_title + ": " + g->title);
            choices_->addItem(label, QString::fromStdString(ref.key()));
            choices_->setItemData(choices_->count() - 1, QString::fromStdString(g->description), Qt::ToolTipRole);
        }
        int i = choices_->findData(QString::fromStdString(keep));
        if (i < 0 && choices_->count() > 0) i = 0;
        choices_->setCurrentIndex(i);
    }
    wanted_ = keep.empty() ? current_choice() : keep;
    show_current();
}

void HeadGridPanel::show_current() {
    const std::string key = current_choice();
    const size_t slash = key.find('/');
    const HeadGrid* grid = slash == std::string::npos ? nullptr
                                                      : session_.grid(GridRef{key.substr(0, slash), key.substr(slash + 1)});
    std::optional<Scale> scale;
    if (scale_->currentIndex() == 1) scale = Scale::sequential;
    if (scale_->currentIndex() == 2) scale = Scale::diverging;
    view_->set_grid(grid, scale);
    view_->updateGeometry();
    view_->set_selected(session_.layer(), session_.head());
    sync_interventions();
    legend_->set_range(view_->range());
    legend_->setVisible(grid != nullptr);
    description_->setText(grid ? QString::fromStdString(grid->description) : QString());
    const auto pending = session_.pending_analyses();
    if (!pending.empty())
        description_->setText(description_->text() + QString("\n%1 analyses still running…").arg(pending.size()));
}

void HeadGridPanel::sync_interventions() {
    std::map<std::pair<int, int>, double> scales;
    for (const auto& s : session_.intervention_scales()) scales[{s.layer, s.head}] = s.factor;
    view_->set_interventions(scales);
}

}  // namespace headscope::gui
