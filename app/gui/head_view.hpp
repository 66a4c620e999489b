// Head view (after bertviz): the prompt's tokens in two columns, and lines from the selected
// query token (left) to every key token (right) whose width and opacity follow the attention
// weight — for one or several heads of the selected layer, each head in its own colour.
// Clicking a token on the left selects it as the query.
#pragma once

#include <QColor>
#include <QWidget>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "engine_types.hpp"

class QLabel;
class QHBoxLayout;
class QScrollArea;
class QToolButton;

namespace headscope::gui {

class Session;

QColor head_color(int head);

// The drawing itself, sized to fit every token (lives in a scroll area).
class HeadLines : public QWidget {
    Q_OBJECT
public:
    explicit HeadLines(QWidget* parent = nullptr);
    void set_data(const std::vector<std::string>& tokens, std::shared_ptr<const QueryRows> rows,
                  const std::set<int>& heads);
    int row_height() const;
    int row_y(int index) const;  // top of a token's row
    QSize sizeHint() const override;

Q_SIGNALS:
    void tokenClicked(int index);

protected:
    void paintEvent(QPaintEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;

private:
    int column_width() const;

    std::vector<QString> labels_;
    std::shared_ptr<const QueryRows> rows_;
    std::set<int> heads_;
};

class HeadView : public QWidget {
    Q_OBJECT
public:
    explicit HeadView(Session& session, QWidget* parent = nullptr);
    const std::set<int>& shown_heads() const { return heads_; }
    void set_shown_heads(const std::set<int>& heads);
    HeadLines& lines() { return *lines_; }

protected:
    void showEvent(QShowEvent* event) override;

private:
    void rebuild_buttons();
    void refresh();
    void scroll_to_query();

    Session& session_;
    QLabel* title_;
    QHBoxLayout* buttons_layout_;
    std::vector<QToolButton*> buttons_;
    QScrollArea* scroll_;
    HeadLines* lines_;
    std::set<int> heads_;
    bool follow_selection_ = true;  // show just the selected head until the user picks others
    int built_for_heads_ = -1;
};

}  // namespace headscope::gui
