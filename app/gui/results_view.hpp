// Every analysis result of the session, browsable: a tree of analyses (with summaries, errors
// and those still running) and their items, the selected item rendered by the generic views.
#pragma once

#include <QWidget>

#include <memory>
#include <string>

#include "headscope/sdk/result.hpp"

class QLabel;
class QTreeWidget;
class QVBoxLayout;

namespace headscope::gui {

class Session;

class ResultsView : public QWidget {
    Q_OBJECT
public:
    explicit ResultsView(Session& session, QWidget* parent = nullptr);
    // Shows "analysis_id" or "analysis_id/item_key"; false when absent.
    bool show_item(const std::string& key);
    QTreeWidget& tree() { return *tree_; }
    QWidget* current_item_widget() const { return item_widget_; }

private:
    void rebuild();
    void show_selected();

    Session& session_;
    QTreeWidget* tree_;
    QLabel* header_;
    QVBoxLayout* item_layout_;
    QWidget* item_widget_ = nullptr;
    std::string shown_key_;
    std::shared_ptr<const Result> shown_result_;
};

}  // namespace headscope::gui
