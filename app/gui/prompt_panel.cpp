#include "prompt_panel.hpp"

#include <QComboBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QShortcut>
#include <QVBoxLayout>

#include "headscope/default_paths.hpp"
#include "headscope/error.hpp"
#include "token_strip.hpp"

namespace headscope::gui {

PromptPanel::PromptPanel(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    auto* top = new QHBoxLayout;
    editor_ = new QPlainTextEdit;
    editor_->setPlaceholderText("Type a prompt and press Ctrl+Enter");
    const int line = editor_->fontMetrics().lineSpacing();
    editor_->setFixedHeight(line * 3 + 12);
    editor_->setTabChangesFocus(true);
    top->addWidget(editor_, 1);
    run_ = new QPushButton("Run");
    run_->setToolTip("Run the prompt (Ctrl+Enter)");
    run_->setDefault(true);
    run_->setMinimumHeight(line * 2);
    top->addWidget(run_, 0, Qt::AlignTop);
    layout->addLayout(top);

    auto* picker = new QHBoxLayout;
    picker->addWidget(new QLabel("Prompt set"));
    sets_ = new QComboBox;
    sets_->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    picker->addWidget(sets_);
    examples_ = new QComboBox;
    examples_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    examples_->setMinimumContentsLength(30);
    picker->addWidget(examples_, 1);
    answer_ = new QLabel;
    answer_->setForegroundRole(QPalette::PlaceholderText);
    picker->addWidget(answer_);
    layout->addLayout(picker);

    for (auto key : {QKeySequence(Qt::CTRL | Qt::Key_Return), QKeySequence(Qt::CTRL | Qt::Key_Enter)}) {
        auto* shortcut = new QShortcut(key, this);
        shortcut->setContext(Qt::WindowShortcut);
        connect(shortcut, &QShortcut::activated, run_, &QPushButton::click);
    }
    connect(run_, &QPushButton::clicked, this, [this] { Q_EMIT runRequested(example()); });
    connect(editor_, &QPlainTextEdit::textChanged, this, &PromptPanel::update_answer_label);
    connect(sets_, &QComboBox::activated, this, [this](int i) {
        const QString path = sets_->itemData(i).toString();
        QString file = path;
        if (path.isEmpty()) {  // (none)
            loaded_.clear();
            chosen_ = -1;
            examples_->clear();
            examples_->setEnabled(false);
            update_answer_label();
            return;
        }
        if (path == "open:") {
            file = QFileDialog::getOpenFileName(this, "Open a prompt set", QString(), "Prompt sets (*.jsonl);;All files (*)");
            if (file.isEmpty()) return;
        }
        try {
            load_prompt_set(file);
        } catch (const std::exception& e) {
            Q_EMIT failed("prompts", QString::fromStdString(e.what()));
        }
    });
    connect(examples_, &QComboBox::activated, this, [this](int i) {
        choose_example(i - 1);
        if (chosen_ >= 0) Q_EMIT runRequested(example());
    });
    fill_sets();
}

void PromptPanel::fill_sets() {
    sets_->clear();
    sets_->addItem("(none)", QString());
    const QDir dir(QString::fromStdString(data_dir()) + "/prompts");
    for (const QFileInfo& f : dir.entryInfoList({"*.jsonl"}, QDir::Files, QDir::Name))
        sets_->addItem(f.completeBaseName(), f.absoluteFilePath());
    sets_->addItem("Open…", QString("open:"));
    examples_->clear();
    examples_->setEnabled(false);
}

void PromptPanel::load_prompt_set(const QString& path) {
    std::vector<PromptExample> examples = headscope::load_prompt_set(path.toStdString());
    loaded_ = std::move(examples);
    int i = sets_->findData(QFileInfo(path).absoluteFilePath());
    if (i < 0) {
        sets_->insertItem(sets_->count() - 1, QFileInfo(path).completeBaseName(), QFileInfo(path).absoluteFilePath());
        i = sets_->count() - 2;
    }
    sets_->setCurrentIndex(i);
    examples_->clear();
    examples_->addItem(QString("%1 examples — choose one").arg(loaded_.size()));
    for (size_t k = 0; k < loaded_.size(); ++k) {
        QString text = QString::fromStdString(loaded_[k].prompt).simplified();
        if (text.size() > 90) text = "…" + text.right(89);
        examples_->addItem(QString("%1. %2").arg(k + 1).arg(text));
    }
    examples_->setEnabled(true);
    chosen_ = -1;
}

void PromptPanel::choose_example(int index) {
    if (index < 0 || index >= static_cast<int>(loaded_.size())) return;
    chosen_ = index;
    examples_->setCurrentIndex(index + 1);
    editor_->blockSignals(true);
    editor_->setPlainText(QString::fromStdString(loaded_[static_cast<size_t>(index)].prompt));
    editor_->blockSignals(false);
    update_answer_label();
}

void PromptPanel::set_text(const QString& text) {
    chosen_ = -1;
    given_ = PromptExample{};
    editor_->setPlainText(text);
}

void PromptPanel::set_example(const PromptExample& example) {
    chosen_ = -1;
    given_ = example;
    editor_->setPlainText(QString::fromStdString(example.prompt));
    update_answer_label();
}

QString PromptPanel::text() const { return editor_->toPlainText(); }

PromptExample PromptPanel::example() const {
    if (chosen_ >= 0 && chosen_ < static_cast<int>(loaded_.size()) &&
        QString::fromStdString(loaded_[static_cast<size_t>(chosen_)].prompt) == editor_->toPlainText())
        return loaded_[static_cast<size_t>(chosen_)];
    if (!given_.prompt.empty() && QString::fromStdString(given_.prompt) == editor_->toPlainText()) return given_;
    PromptExample e;
    e.task = "custom";
    e.prompt = editor_->toPlainText().toStdString();
    return e;
}

void PromptPanel::update_answer_label() {
    const PromptExample e = example();
    if (e.answer.empty()) {
        answer_->clear();
        return;
    }
    QString text = QString("answer ‘%1’").arg(chip_text(e.answer));
    if (!e.alternative.empty()) text += QString(" vs ‘%1’").arg(chip_text(e.alternative));
    answer_->setText(text);
}

}  // namespace headscope::gui
