// Prompt editor with Run (Ctrl+Enter) and a picker for prompt sets (data/prompts/*.jsonl or any
// JSONL file): choosing an example fills the editor and keeps its answer and alternative, which
// the intervention metrics then score.
#pragma once

#include <QWidget>

#include <vector>

#include "headscope/sdk/prompts.hpp"

class QComboBox;
class QLabel;
class QPlainTextEdit;
class QPushButton;

namespace headscope::gui {

class PromptPanel : public QWidget {
    Q_OBJECT
public:
    explicit PromptPanel(QWidget* parent = nullptr);

    void set_text(const QString& text);
    // Shows an example's prompt; its answer and alternative stay with it while the text is unchanged.
    void set_example(const PromptExample& example);
    QString text() const;
    // The example to run: the chosen one while its text is unchanged, else the editor's text.
    PromptExample example() const;
    // Loads a JSONL prompt set into the picker; throws FormatError.
    void load_prompt_set(const QString& path);
    void choose_example(int index);
    QPlainTextEdit& editor() { return *editor_; }
    QPushButton& run_button() { return *run_; }

Q_SIGNALS:
    void runRequested(const PromptExample& example);
    void failed(const QString& what, const QString& message);

private:
    void fill_sets();
    void update_answer_label();

    QPlainTextEdit* editor_;
    QPushButton* run_;
    QComboBox* sets_;
    QComboBox* examples_;
    QLabel* answer_;
    std::vector<PromptExample> loaded_;
    int chosen_ = -1;
    PromptExample given_;  // from set_example()
};

}  // namespace headscope::gui
