// HeatmapView: a labelled 2-D heatmap (an attention pattern, any Matrix result) with zoom
// (wheel, +/-), pan (drag), fit (double-click, 0) and a hover readout. The colours are rendered
// once per data set into an image pyramid (level k max-pools 2^k x 2^k cells, so a single sharp
// attention peak stays visible when zoomed out); a paint only blits the visible part of one
// level, which keeps repaints of 4,096 x 4,096 patterns well under a frame.
#pragma once

#include <QImage>
#include <QPointF>
#include <QStringList>
#include <QWidget>

#include <memory>
#include <optional>
#include <vector>

#include "color_map.hpp"

namespace headscope::gui {

struct HeatmapData {
    int rows = 0;
    int cols = 0;
    std::shared_ptr<const std::vector<float>> values;  // rows * cols, row-major
    QStringList row_labels;  // empty or rows long
    QStringList col_labels;  // empty or cols long
    QString row_axis;        // e.g. "query"
    QString col_axis;        // e.g. "key"
    Scale scale = Scale::sequential;
    bool causal = false;  // cells right of the diagonal are masked (keys a query cannot see)
    std::optional<ValueRange> range;  // default: from the values
};

class HeatmapView : public QWidget {
    Q_OBJECT
public:
    explicit HeatmapView(QWidget* parent = nullptr);

    void set_data(HeatmapData data);
    void clear();
    const HeatmapData& data() const { return data_; }
    const ValueRange& range() const { return range_; }
    bool has_data() const { return data_.rows > 0 && data_.cols > 0; }
    double value(int row, int col) const;

    void set_highlight_row(int row);  // -1: none
    void fit();
    void zoom_by(double factor, QPointF anchor);
    double cell_size() const { return scale_; }
    // The cell under a widget position, or (-1, -1).
    QPoint cell_at(QPointF pos) const;

    QSize sizeHint() const override { return {600, 600}; }
    QSize minimumSizeHint() const override { return {160, 160}; }

Q_SIGNALS:
    // row/col -1 when the pointer left the map.
    void hovered(int row, int col, double value);
    void rowClicked(int row);

protected:
    void paintEvent(QPaintEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void wheelEvent(QWheelEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void mouseDoubleClickEvent(QMouseEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;
    void leaveEvent(QEvent* event) override;
    void changeEvent(QEvent* event) override;

private:
    void build_pyramid();
    void update_margins();
    QRectF plot_rect() const;
    double fit_scale() const;
    void clamp_view();
    void draw_row_labels(QPainter& p, const QRectF& plot) const;
    void draw_col_labels(QPainter& p, const QRectF& plot) const;

    HeatmapData data_;
    ValueRange range_;
    std::vector<QImage> levels_;  // level k: ceil(cols / 2^k) x ceil(rows / 2^k)
    double scale_ = 1;            // pixels per cell
    QPointF origin_;              // offset of cell (0, 0) from the plot's top-left
    bool fitted_ = true;          // follow the widget size until the user zooms or pans
    int left_margin_ = 40;
    int bottom_margin_ = 24;
    int highlight_row_ = -1;
    QPoint hover_{-1, -1};
    QPointF press_pos_;
    QPointF press_origin_;
    bool dragging_ = false;
    bool pressed_ = false;
};

}  // namespace headscope::gui
