// Side panel with the loaded model's facts (format, architecture, sizes, files) and what the
// current prompt's run looked like.
#pragma once

#include <QWidget>

class QFormLayout;
class QLabel;

namespace headscope::gui {

class Session;

class ModelPanel : public QWidget {
    Q_OBJECT
public:
    explicit ModelPanel(Session& session, QWidget* parent = nullptr);

private:
    void refresh();

    Session& session_;
    QLabel* title_;
    QFormLayout* form_;
    QLabel* run_;
};

}  // namespace headscope::gui
