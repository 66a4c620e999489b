// HeadGridView: a layer x head heatmap of one HeadGrid (rows = layers, columns = heads), with
// the selected head outlined and intervened heads marked (ablated: crossed; scaled: factor).
// Hover shows the value; a click selects the head.
#pragma once

#include <QWidget>

#include <map>
#include <optional>
#include <utility>

#include "color_map.hpp"
#include "headscope/sdk/result.hpp"

namespace headscope::gui {

class HeadGridView : public QWidget {
    Q_OBJECT
public:
    explicit HeadGridView(QWidget* parent = nullptr);

    void set_grid(const HeadGrid* grid, std::optional<Scale> scale_override = std::nullopt);
    const HeadGrid& grid() const { return grid_; }
    bool has_grid() const { return grid_.layers > 0 && grid_.heads > 0; }
    const ValueRange& range() const { return range_; }
    void set_selected(int layer, int head);
    // (layer, head) -> factor; 0 = ablated.
    void set_interventions(const std::map<std::pair<int, int>, double>& scales);
    void set_show_values(bool on);
    QRectF cell_rect(int layer, int head) const;
    std::pair<int, int> head_at(QPointF pos) const;  // (-1, -1) outside
    QString tooltip_text(int layer, int head) const;

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override { return {120, 80}; }

Q_SIGNALS:
    void headClicked(int layer, int head);
    void headHovered(int layer, int head, double value);  // (-1, -1) when leaving

protected:
    void paintEvent(QPaintEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void leaveEvent(QEvent* event) override;
    bool event(QEvent* event) override;

private:
    QRectF plot_rect() const;

    HeadGrid grid_;
    ValueRange range_;
    std::map<std::pair<int, int>, double> scales_;
    int layer_ = -1;
    int head_ = -1;
    std::pair<int, int> hover_{-1, -1};
    bool show_values_ = true;
};

}  // namespace headscope::gui
