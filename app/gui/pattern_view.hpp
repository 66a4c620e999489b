// The selected head's attention pattern: query x key heatmap with token labels, zoom and pan,
// a hover readout ("query 12 'the' -> key 3 'cat': 0.41"); clicking a row selects that query.
#pragma once

#include <QWidget>

#include <memory>

#include "engine_types.hpp"

class QLabel;

namespace headscope::gui {

class ColorLegend;
class HeatmapView;
class Session;

class PatternView : public QWidget {
    Q_OBJECT
public:
    explicit PatternView(Session& session, QWidget* parent = nullptr);

    HeatmapView& heatmap() { return *heatmap_; }
    // Shows a pattern directly (used by the session and by bench/gui).
    // The view keeps (shares) the pattern's values; nothing is copied.
    void show_pattern(std::shared_ptr<const HeadPattern> pattern, const std::vector<std::string>& tokens);
    // The (layer, head) the view currently shows, (-1, -1) when none.
    std::pair<int, int> shown_head() const { return shown_; }
    QString title_text() const;

private:
    void refresh();

    Session& session_;
    QLabel* title_;
    HeatmapView* heatmap_;
    ColorLegend* legend_;
    QLabel* readout_;
    std::pair<int, int> shown_{-1, -1};
    std::weak_ptr<const HeadPattern> shown_pattern_;
};

}  // namespace headscope::gui
