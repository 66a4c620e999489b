#include "head_grid_view.hpp"

#include "headscope/sdk/head_ref.hpp"

#include <QHelpEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>

#include <algorithm>
#include <cmath>

namespace headscope::gui {

HeadGridView::HeadGridView(QWidget* parent) : QWidget(parent) {
    setMouseTracking(true);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
}

void HeadGridView::set_grid(const HeadGrid* grid, std::optional<Scale> scale_override) {
    grid_ = grid ? *grid : HeadGrid{};
    if (grid_.values.size() != static_cast<size_t>(grid_.layers) * static_cast<size_t>(std::max(0, grid_.heads)))
        grid_ = HeadGrid{};
    if (scale_override) grid_.scale = *scale_override;
    range_ = ValueRange::of(grid_.values, grid_.scale);
    update();
}

void HeadGridView::set_selected(int layer, int head) {
    if (layer == layer_ && head == head_) return;
    layer_ = layer;
    head_ = head;
    update();
}

void HeadGridView::set_interventions(const std::map<std::pair<int, int>, double>& scales) {
    scales_ = scales;
    update();
}

void HeadGridView::set_show_values(bool on) {
    show_values_ = on;
    update();
}

QSize HeadGridView::sizeHint() const {
    if (!has_grid()) return {360, 240};
    return {std::clamp(60 + grid_.heads * 46, 240, 700), std::clamp(30 + grid_.layers * 56, 120, 720)};
}

QRectF HeadGridView::plot_rect() const {
    const QFontMetrics fm = fontMetrics();
    const double left = fm.horizontalAdvance("L00") + 10;
    const double top = fm.height() + 6;
    QRectF area(left, top, std::max(10.0, width() - left - 6), std::max(10.0, height() - top - 6));
    if (!has_grid()) return area;
    // Cells no larger than needed, no wider than 2.5x their height.
    const double ch = std::min(area.height() / grid_.layers, 64.0);
    const double cw = std::min(area.width() / grid_.heads, std::max(ch * 2.5, 24.0));
    return QRectF(area.left(), area.top(), cw * grid_.heads, ch * grid_.layers);
}

QRectF HeadGridView::cell_rect(int layer, int head) const {
    const QRectF plot = plot_rect();
    const double cw = plot.width() / std::max(1, grid_.heads), ch = plot.height() / std::max(1, grid_.layers);
    return QRectF(plot.left() + head * cw, plot.top() + layer * ch, cw, ch);
}

std::pair<int, int> HeadGridView::head_at(QPointF pos) const {
    if (!has_grid()) return {-1, -1};
    const QRectF plot = plot_rect();
    if (!plot.contains(pos)) return {-1, -1};
    const int h = std::clamp(static_cast<int>((pos.x() - plot.left()) / plot.width() * grid_.heads), 0, grid_.heads - 1);
    const int l = std::clamp(static_cast<int>((pos.y() - plot.top()) / plot.height() * grid_.layers), 0, grid_.layers - 1);
    return {l, h};
}

QString HeadGridView::tooltip_text(int layer, int head) const {
    if (!has_grid() || layer < 0 || head < 0) return {};
    QString s = QString("<b>%1</b> &nbsp;%2: <b>%3</b>")
                    .arg(QString::fromStdString(head_label(layer, head)))
                    .arg(QString::fromStdString(grid_.title).toHtmlEscaped())
                    .arg(format_value(grid_.at(layer, head)));
    auto it = scales_.find({layer, head});
    if (it != scales_.end())
        s += it->second == 0 ? QString("<br>ablated") : QString("<br>scaled by %1").arg(it->second, 0, 'f', 2);
    if (!grid_.description.empty()) s += "<br><i>" + QString::fromStdString(grid_.description).toHtmlEscaped() + "</i>";
    return s;
}

void HeadGridView::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.fillRect(rect(), palette().color(QPalette::Window));
    if (!has_grid()) {
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(rect(), Qt::AlignCenter, "no head grid");
        return;
    }
    const QFontMetrics fm = fontMetrics();
    const QRectF plot = plot_rect();
    const double cw = plot.width() / grid_.heads, ch = plot.height() / grid_.layers;
    QFont small = font();
    small.setPointSizeF(std::max(6.0, font().pointSizeF() * 0.85));
    const QFontMetrics sfm(small);
    const bool values = show_values_ && cw >= sfm.horizontalAdvance("-0.000") + 4 && ch >= sfm.height() + 2;

    for (int l = 0; l < grid_.layers; ++l)
        for (int h = 0; h < grid_.heads; ++h) {
            const QRectF r = cell_rect(l, h);
            const double v = grid_.at(l, h);
            const QRgb c = range_.color(v);
            p.fillRect(r, QColor(c));
            if (values) {
                p.setFont(small);
                p.setPen(text_color_on(c));
                p.drawText(r, Qt::AlignCenter, format_value(v));
            }
            auto it = scales_.find({l, h});
            if (it != scales_.end()) {
                p.setRenderHint(QPainter::Antialiasing);
                if (it->second == 0) {
                    p.setPen(QPen(QColor(220, 30, 30), 2));
                    p.drawLine(r.topLeft() + QPointF(3, 3), r.bottomRight() - QPointF(3, 3));
                    p.drawLine(r.topRight() + QPointF(-3, 3), r.bottomLeft() + QPointF(3, -3));
                } else {
                    p.setFont(small);
                    p.setPen(QPen(QColor(220, 30, 30), 1.5));
                    p.drawRect(r.adjusted(2, 2, -2, -2));
                    p.drawText(r.adjusted(3, 1, -3, -1), Qt::AlignRight | Qt::AlignTop,
                               QString("×%1").arg(it->second, 0, 'f', 2));
                }
                p.setRenderHint(QPainter::Antialiasing, false);
            }
        }
    p.setFont(font());
    p.setPen(palette().color(QPalette::WindowText));
    const int label_step = std::max(1, static_cast<int>(std::ceil((fm.horizontalAdvance("H00") + 4) / cw)));
    for (int h = 0; h < grid_.heads; h += label_step)
        p.drawText(QRectF(plot.left() + h * cw, 0, cw * label_step, plot.top() - 2), Qt::AlignHCenter | Qt::AlignBottom,
                   QString("H%1").arg(h));
    const int row_step = std::max(1, static_cast<int>(std::ceil(fm.height() / ch)));
    for (int l = 0; l < grid_.layers; l += row_step)
        p.drawText(QRectF(0, plot.top() + l * ch, plot.left() - 5, ch), Qt::AlignRight | Qt::AlignVCenter,
                   QString("L%1").arg(l));
    if (hover_.first >= 0) {
        p.setPen(QPen(palette().color(QPalette::WindowText), 1, Qt::DotLine));
        p.drawRect(cell_rect(hover_.first, hover_.second).adjusted(1, 1, -1, -1));
    }
    if (layer_ >= 0 && head_ >= 0 && layer_ < grid_.layers && head_ < grid_.heads) {
        p.setPen(QPen(palette().color(QPalette::Highlight), 3));
        p.drawRect(cell_rect(layer_, head_).adjusted(1.5, 1.5, -1.5, -1.5));
    }
}

void HeadGridView::mouseMoveEvent(QMouseEvent* event) {
    const auto at = head_at(event->position());
    if (at == hover_) return;
    hover_ = at;
    update();
    Q_EMIT headHovered(at.first, at.second, at.first >= 0 ? grid_.at(at.first, at.second) : std::nan(""));
}

void HeadGridView::mousePressEvent(QMouseEvent* event) {
    if (event->button() != Qt::LeftButton) return;
    const auto at = head_at(event->position());
    if (at.first >= 0) Q_EMIT headClicked(at.first, at.second);
}

void HeadGridView::leaveEvent(QEvent*) {
    hover_ = {-1, -1};
    update();
    Q_EMIT headHovered(-1, -1, std::nan(""));
}

bool HeadGridView::event(QEvent* e) {
    if (e->type() == QEvent::ToolTip) {
        auto* help = static_cast<QHelpEvent*>(e);
        const auto at = head_at(help->pos());
        if (at.first >= 0)
            QToolTip::showText(help->globalPos(), tooltip_text(at.first, at.second), this,
                               cell_rect(at.first, at.second).toRect());
        else
            QToolTip::hideText();
        return true;
    }
    return QWidget::event(e);
}

}  // namespace headscope::gui
