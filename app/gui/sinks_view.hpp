// Sinks view: tokens tinted by the attention they receive with sink tokens marked, and each
// head's sink share as a layer x head grid (from the attention_sinks result; before it arrives,
// from this prompt's own pattern statistics), with the sink tables.
#pragma once

#include <QWidget>

#include <set>

class QComboBox;
class QLabel;
class QTabWidget;

namespace headscope::gui {

class ColorLegend;
class HeadGridView;
class Session;
class TokenStrip;

// Sink positions of the current prompt: those attention_sinks lists, or else the first token
// and any token receiving at least 3x the median attention and 10% of it overall.
std::set<int> sink_positions(const Session& session);

class SinksView : public QWidget {
    Q_OBJECT
public:
    explicit SinksView(Session& session, QWidget* parent = nullptr);
    TokenStrip& strip() { return *strip_; }
    HeadGridView& grid() { return *grid_; }

private:
    void refresh();
    void show_grid();

    Session& session_;
    QLabel* source_;
    TokenStrip* strip_;
    ColorLegend* strip_legend_;
    QComboBox* grid_choice_;
    HeadGridView* grid_;
    ColorLegend* grid_legend_;
    QTabWidget* tables_;
    bool user_choice_ = false;
};

}  // namespace headscope::gui
