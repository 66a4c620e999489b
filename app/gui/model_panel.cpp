#include "model_panel.hpp"

#include <QFileInfo>
#include <QFormLayout>
#include <QLabel>
#include <QVBoxLayout>

#include "session.hpp"

namespace headscope::gui {

ModelPanel::ModelPanel(Session& session, QWidget* parent) : QWidget(parent), session_(session) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    title_ = new QLabel("No model loaded");
    QFont f = title_->font();
    f.setBold(true);
    f.setPointSizeF(f.pointSizeF() * 1.15);
    title_->setFont(f);
    title_->setWordWrap(true);
    layout->addWidget(title_);
    form_ = new QFormLayout;
    form_->setLabelAlignment(Qt::AlignLeft);
    form_->setRowWrapPolicy(QFormLayout::DontWrapRows);
    layout->addLayout(form_);
    run_ = new QLabel;
    run_->setWordWrap(true);
    run_->setForegroundRole(QPalette::PlaceholderText);
    layout->addWidget(run_);
    layout->addStretch(1);
    connect(&session_, &Session::modelLoaded, this, &ModelPanel::refresh);
    connect(&session_, &Session::promptRan, this, &ModelPanel::refresh);
    connect(&session_, &Session::pluginsChanged, this, &ModelPanel::refresh);
    refresh();
}

void ModelPanel::refresh() {
    while (form_->rowCount() > 0) form_->removeRow(0);
    const ModelSummary* m = session_.model();
    if (!m) {
        title_->setText("No model loaded");
        run_->setText("Open a model with File › Open Model, or drop a model file or folder on the window.");
        return;
    }
    title_->setText(QFileInfo(QString::fromStdString(m->path)).fileName());
    title_->setToolTip(QString::fromStdString(m->path));
    for (const auto& [label, value] : m->facts) {
        if (label == "Name") continue;
        auto* v = new QLabel(QString::fromStdString(value));
        v->setTextInteractionFlags(Qt::TextSelectableByMouse);
        v->setWordWrap(true);
        if (label == "File" || label == "Tokenizer") v->setText(QFileInfo(QString::fromStdString(value)).fileName()), v->setToolTip(QString::fromStdString(value));
        form_->addRow(QString::fromStdString(label) + ":", v);
    }
    QStringList lines;
    if (const PluginsSnapshot* p = session_.plugins()) lines << QString("%1 analyses registered").arg(p->analyses.size());
    if (const PromptRun* run = session_.run())
        lines << QString("Prompt: %1 tokens, forward pass %2 ms").arg(run->ids.size()).arg(run->forward_ms, 0, 'f', 1);
    run_->setText(lines.join("\n"));
}

}  // namespace headscope::gui
