#include "heatmap_view.hpp"

#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>
#include <limits>
#include <thread>

namespace headscope::gui {

namespace {

constexpr double kMaxCellPixels = 64.0;
constexpr int kMinLevelSide = 32;

// Pools 2x2 blocks: the largest value (sequential) or the largest magnitude (diverging);
// NaN (masked) cells are ignored, a block of masked cells stays masked.
float pool(float a, float b, bool diverging) {
    if (std::isnan(a)) return b;
    if (std::isnan(b)) return a;
    if (diverging) return std::abs(a) >= std::abs(b) ? a : b;
    return std::max(a, b);
}

// The smallest of 1, 2, 5, 10, 20, 50, ... that is at least `at_least`.
int nice_step(int at_least) {
    for (int base = 1;; base *= 10)
        for (int m : {1, 2, 5})
            if (base * m >= at_least || base > 100000) return base * m;
}

}  // namespace

HeatmapView::HeatmapView(QWidget* parent) : QWidget(parent) {
    setMouseTracking(true);
    setFocusPolicy(Qt::StrongFocus);
    setAttribute(Qt::WA_OpaquePaintEvent);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
}

void HeatmapView::set_data(HeatmapData data) {
    data_ = std::move(data);
    if (!data_.values || data_.values->size() != static_cast<size_t>(data_.rows) * static_cast<size_t>(data_.cols)) {
        data_.rows = data_.cols = 0;
        data_.values.reset();
    }
    if (data_.row_labels.size() != data_.rows) data_.row_labels.clear();
    if (data_.col_labels.size() != data_.cols) data_.col_labels.clear();
    if (data_.range)
        range_ = *data_.range;
    else if (has_data())
        range_ = ValueRange::of(data_.values->data(), data_.values->size(), data_.scale);
    hover_ = {-1, -1};
    if (highlight_row_ >= data_.rows) highlight_row_ = -1;
    build_pyramid();
    update_margins();
    fitted_ = true;
    clamp_view();
    update();
}

void HeatmapView::clear() { set_data(HeatmapData{}); }

double HeatmapView::value(int row, int col) const {
    if (!has_data() || row < 0 || col < 0 || row >= data_.rows || col >= data_.cols)
        return std::numeric_limits<double>::quiet_NaN();
    return (*data_.values)[static_cast<size_t>(row) * static_cast<size_t>(data_.cols) + static_cast<size_t>(col)];
}

void HeatmapView::set_highlight_row(int row) {
    if (row == highlight_row_) return;
    highlight_row_ = row;
    update();
}

void HeatmapView::build_pyramid() {
    levels_.clear();
    if (!has_data()) return;
    const int rows = data_.rows, cols = data_.cols;
    const bool diverging = data_.scale == Scale::diverging;
    const bool causal = data_.causal;
    const float* v = data_.values->data();
    const auto& lut = ColorMap::for_scale(data_.scale).table();
    const QRgb masked = palette().color(QPalette::Window).darker(112).rgb();
    const float lo = static_cast<float>(range_.lo);
    const float scale = static_cast<float>(255.0 / (range_.hi - range_.lo));
    const float nan = std::numeric_limits<float>::quiet_NaN();
    auto color = [&](float x) -> QRgb {
        if (std::isnan(x)) return masked;
        const float t = (x - lo) * scale + 0.5f;
        return lut[static_cast<size_t>(t <= 0.f ? 0 : t >= 255.f ? 255 : static_cast<int>(t))];
    };

    // Level 0, and level 1 pooled straight from the data (masked cells as NaN); rows are split
    // over a few threads (this runs once per head, a 4,096-token pattern has 16M cells).
    QImage base(cols, rows, QImage::Format_RGB32);
    const int w1 = (cols + 1) / 2, h1 = (rows + 1) / 2;
    std::vector<float> level1(static_cast<size_t>(w1) * static_cast<size_t>(h1));
    auto cell0 = [&](int r, int c) -> float {
        if (r >= rows || c >= cols || (causal && c > r)) return nan;
        return v[static_cast<size_t>(r) * static_cast<size_t>(cols) + static_cast<size_t>(c)];
    };
    auto band = [&](int first_pair, int last_pair) {  // pairs of rows [2*first, 2*last)
        for (int r = 2 * first_pair; r < std::min(rows, 2 * last_pair); ++r) {
            auto* line = reinterpret_cast<QRgb*>(base.scanLine(r));
            const float* row = v + static_cast<size_t>(r) * static_cast<size_t>(cols);
            const int visible = causal ? std::min(cols, r + 1) : cols;
            for (int c = 0; c < visible; ++c) line[c] = color(row[c]);
            for (int c = visible; c < cols; ++c) line[c] = masked;
        }
        for (int r = first_pair; r < last_pair; ++r) {
            float* out = level1.data() + static_cast<size_t>(r) * static_cast<size_t>(w1);
            for (int c = 0; c < w1; ++c)
                out[c] = pool(pool(cell0(2 * r, 2 * c), cell0(2 * r, 2 * c + 1), diverging),
                              pool(cell0(2 * r + 1, 2 * c), cell0(2 * r + 1, 2 * c + 1), diverging), diverging);
        }
    };
    const int threads = std::clamp(static_cast<int>(std::thread::hardware_concurrency()), 1, 4);
    if (rows < 256 || threads == 1) {
        band(0, h1);
    } else {
        std::vector<std::thread> workers;
        const int per = (h1 + threads - 1) / threads;
        for (int t = 1; t < threads; ++t)
            workers.emplace_back(band, std::min(h1, t * per), std::min(h1, (t + 1) * per));
        band(0, std::min(h1, per));
        for (auto& w : workers) w.join();
    }
    levels_.push_back(std::move(base));
    if (cols <= kMinLevelSide && rows <= kMinLevelSide) return;

    // Level k + 1 pools level k's values.
    std::vector<float> prev = std::move(level1);
    int pw = w1, ph = h1;
    for (;;) {
        QImage img(pw, ph, QImage::Format_RGB32);
        for (int r = 0; r < ph; ++r) {
            auto* line = reinterpret_cast<QRgb*>(img.scanLine(r));
            const float* row = prev.data() + static_cast<size_t>(r) * static_cast<size_t>(pw);
            for (int c = 0; c < pw; ++c) line[c] = color(row[c]);
        }
        levels_.push_back(std::move(img));
        if (pw <= kMinLevelSide && ph <= kMinLevelSide) break;
        const int w = (pw + 1) / 2, h = (ph + 1) / 2;
        std::vector<float> next(static_cast<size_t>(w) * static_cast<size_t>(h));
        auto src = [&](int r, int c) -> float {
            return r < ph && c < pw ? prev[static_cast<size_t>(r) * static_cast<size_t>(pw) + static_cast<size_t>(c)] : nan;
        };
        for (int r = 0; r < h; ++r)
            for (int c = 0; c < w; ++c)
                next[static_cast<size_t>(r) * static_cast<size_t>(w) + static_cast<size_t>(c)] =
                    pool(pool(src(2 * r, 2 * c), src(2 * r, 2 * c + 1), diverging),
                         pool(src(2 * r + 1, 2 * c), src(2 * r + 1, 2 * c + 1), diverging), diverging);
        prev = std::move(next);
        pw = w;
        ph = h;
    }
}

void HeatmapView::update_margins() {
    const QFontMetrics fm = fontMetrics();
    // Measuring thousands of labels costs more than drawing them: measure the 32 longest.
    auto widest = [&](const QStringList& labels) {
        std::vector<const QString*> longest;
        for (const QString& s : labels) longest.push_back(&s);
        const size_t n = std::min<size_t>(32, longest.size());
        std::partial_sort(longest.begin(), longest.begin() + static_cast<std::ptrdiff_t>(n), longest.end(),
                          [](const QString* a, const QString* b) { return a->size() > b->size(); });
        int w = 0;
        for (size_t i = 0; i < n; ++i) w = std::max(w, fm.horizontalAdvance(*longest[i]));
        return std::min(w, 140);
    };
    const int digits = fm.horizontalAdvance(QString::number(std::max(data_.rows, data_.cols))) + 10;
    left_margin_ = std::max(digits, data_.row_labels.isEmpty() ? 0 : widest(data_.row_labels) + 10);
    bottom_margin_ = std::max(fm.height() + 8, data_.col_labels.isEmpty() ? 0 : std::min(widest(data_.col_labels) + 10, 90));
}

QRectF HeatmapView::plot_rect() const {
    return QRectF(left_margin_, 6, std::max(10, width() - left_margin_ - 8), std::max(10, height() - bottom_margin_ - 6));
}

double HeatmapView::fit_scale() const {
    if (!has_data()) return 1;
    const QRectF plot = plot_rect();
    return std::min(plot.width() / data_.cols, plot.height() / data_.rows);
}

void HeatmapView::clamp_view() {
    if (!has_data()) return;
    const double fit_s = fit_scale();
    if (fitted_) scale_ = fit_s;
    scale_ = std::clamp(scale_, fit_s, std::max(fit_s, kMaxCellPixels));
    const QRectF plot = plot_rect();
    const double w = data_.cols * scale_, h = data_.rows * scale_;
    // Content smaller than the plot is centred; larger content cannot be dragged past its edges.
    origin_.setX(w <= plot.width() ? (plot.width() - w) / 2 : std::clamp(origin_.x(), plot.width() - w, 0.0));
    origin_.setY(h <= plot.height() ? (plot.height() - h) / 2 : std::clamp(origin_.y(), plot.height() - h, 0.0));
}

void HeatmapView::fit() {
    fitted_ = true;
    clamp_view();
    update();
}

void HeatmapView::zoom_by(double factor, QPointF anchor) {
    if (!has_data()) return;
    const QRectF plot = plot_rect();
    const QPointF local = anchor - plot.topLeft();
    const double old = scale_;
    const double fit_s = fit_scale();
    scale_ = std::clamp(scale_ * factor, fit_s, std::max(fit_s, kMaxCellPixels));
    fitted_ = scale_ <= fit_s * 1.0001;
    // Keep the cell under the anchor where it is.
    origin_ = local - (local - origin_) * (scale_ / old);
    clamp_view();
    update();
}

QPoint HeatmapView::cell_at(QPointF pos) const {
    if (!has_data()) return {-1, -1};
    const QRectF plot = plot_rect();
    if (!plot.contains(pos)) return {-1, -1};
    const QPointF local = pos - plot.topLeft() - origin_;
    const int c = static_cast<int>(std::floor(local.x() / scale_));
    const int r = static_cast<int>(std::floor(local.y() / scale_));
    if (r < 0 || c < 0 || r >= data_.rows || c >= data_.cols) return {-1, -1};
    return {c, r};
}

void HeatmapView::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.fillRect(rect(), palette().color(QPalette::Window));
    if (!has_data() || levels_.empty()) {
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(rect(), Qt::AlignCenter, "no data");
        return;
    }
    const QRectF plot = plot_rect();
    const QRectF full(plot.topLeft() + origin_, QSizeF(data_.cols * scale_, data_.rows * scale_));
    const QRectF target = full.intersected(plot);
    // The smallest level whose pixels are still at least one screen pixel.
    int level = 0;
    while (level + 1 < static_cast<int>(levels_.size()) && scale_ * std::ldexp(1.0, level) < 1.0) ++level;
    const QImage& img = levels_[static_cast<size_t>(level)];
    const double cell_px = scale_ * std::ldexp(1.0, level);  // screen pixels per level pixel
    const QRectF source((target.left() - full.left()) / cell_px, (target.top() - full.top()) / cell_px,
                        target.width() / cell_px, target.height() / cell_px);
    p.save();
    p.setClipRect(plot);
    p.setRenderHint(QPainter::SmoothPixmapTransform, false);
    p.drawImage(target, img, source);

    auto cell_rect = [&](int r, int c) {
        return QRectF(full.left() + c * scale_, full.top() + r * scale_, scale_, scale_);
    };
    if (highlight_row_ >= 0) {
        QPen pen(palette().color(QPalette::Highlight), 2);
        p.setPen(pen);
        p.setBrush(Qt::NoBrush);
        p.drawRect(QRectF(full.left(), full.top() + highlight_row_ * scale_, full.width(), scale_).adjusted(-1, -1, 1, 1));
    }
    if (hover_.x() >= 0) {
        p.setPen(QPen(Qt::white, 1));
        p.setBrush(Qt::NoBrush);
        const QRectF c = cell_rect(hover_.y(), hover_.x());
        p.drawRect(scale_ >= 4 ? c : c.adjusted(-2, -2, 2, 2));
    }
    p.restore();

    p.setPen(palette().color(QPalette::Mid));
    p.drawRect(target.adjusted(-0.5, -0.5, 0.5, 0.5));
    draw_row_labels(p, plot);
    draw_col_labels(p, plot);
}

void HeatmapView::draw_row_labels(QPainter& p, const QRectF& plot) const {
    const QFontMetrics fm = fontMetrics();
    const double top = plot.top() + origin_.y();
    const int first = std::max(0, static_cast<int>(std::floor((plot.top() - top) / scale_)));
    const int last = std::min(data_.rows - 1, static_cast<int>(std::ceil((plot.bottom() - top) / scale_)));
    const bool labels = !data_.row_labels.isEmpty() && scale_ >= fm.height() * 0.8;
    const int nice = labels ? 1 : nice_step(static_cast<int>(std::ceil(fm.height() * 1.5 / scale_)));
    p.setPen(palette().color(QPalette::WindowText));
    for (int r = first; r <= last; ++r) {
        if (!labels && r % nice != 0) continue;
        const double y = top + (r + 0.5) * scale_;
        const QString text = labels ? fm.elidedText(data_.row_labels[r], Qt::ElideRight, left_margin_ - 8) : QString::number(r);
        QFont f = font();
        if (r == highlight_row_) f.setBold(true);
        p.setFont(f);
        p.drawText(QRectF(0, y - fm.height() / 2.0, left_margin_ - 5, fm.height()), Qt::AlignRight | Qt::AlignVCenter, text);
    }
    p.setFont(font());
}

void HeatmapView::draw_col_labels(QPainter& p, const QRectF& plot) const {
    const QFontMetrics fm = fontMetrics();
    const double left = plot.left() + origin_.x();
    const int first = std::max(0, static_cast<int>(std::floor((plot.left() - left) / scale_)));
    const int last = std::min(data_.cols - 1, static_cast<int>(std::ceil((plot.right() - left) / scale_)));
    const double y0 = std::min(plot.bottom(), plot.top() + origin_.y() + data_.rows * scale_) + 4;
    p.setPen(palette().color(QPalette::WindowText));
    if (!data_.col_labels.isEmpty() && scale_ >= fm.height() * 0.8) {
        for (int c = first; c <= last; ++c) {
            const double x = left + (c + 0.5) * scale_;
            p.save();
            p.translate(x + fm.ascent() / 2.0 - 1, y0);
            p.rotate(90);
            p.drawText(0, 0, fm.elidedText(data_.col_labels[c], Qt::ElideRight, bottom_margin_ - 8));
            p.restore();
        }
        return;
    }
    const int widest = fm.horizontalAdvance(QString::number(data_.cols)) + 12;
    const int step = nice_step(static_cast<int>(std::ceil(widest / scale_)));
    for (int c = (first + step - 1) / step * step; c <= last; c += step) {
        const double x = left + (c + 0.5) * scale_;
        const QString text = QString::number(c);
        p.drawText(QPointF(x - fm.horizontalAdvance(text) / 2.0, y0 + fm.ascent()), text);
    }
}

void HeatmapView::resizeEvent(QResizeEvent*) { clamp_view(); }

void HeatmapView::wheelEvent(QWheelEvent* event) {
    const double steps = event->angleDelta().y() / 120.0;
    if (steps != 0) zoom_by(std::pow(1.25, steps), event->position());
    event->accept();
}

void HeatmapView::mousePressEvent(QMouseEvent* event) {
    if (event->button() != Qt::LeftButton) return;
    pressed_ = true;
    dragging_ = false;
    press_pos_ = event->position();
    press_origin_ = origin_;
}

void HeatmapView::mouseMoveEvent(QMouseEvent* event) {
    if (pressed_ && (event->buttons() & Qt::LeftButton)) {
        const QPointF delta = event->position() - press_pos_;
        if (!dragging_ && delta.manhattanLength() > 4) dragging_ = true;
        if (dragging_) {
            origin_ = press_origin_ + delta;
            fitted_ = false;
            clamp_view();
            setCursor(Qt::ClosedHandCursor);
            update();
            return;
        }
    }
    const QPoint cell = cell_at(event->position());
    if (cell != hover_) {
        hover_ = cell;
        update();
        Q_EMIT hovered(cell.y(), cell.x(), value(cell.y(), cell.x()));
    }
}

void HeatmapView::mouseReleaseEvent(QMouseEvent* event) {
    if (event->button() != Qt::LeftButton) return;
    if (pressed_ && !dragging_) {
        const QPoint cell = cell_at(event->position());
        if (cell.y() >= 0) Q_EMIT rowClicked(cell.y());
    }
    pressed_ = dragging_ = false;
    unsetCursor();
}

void HeatmapView::mouseDoubleClickEvent(QMouseEvent*) { fit(); }

void HeatmapView::keyPressEvent(QKeyEvent* event) {
    const QPointF centre = plot_rect().center();
    switch (event->key()) {
        case Qt::Key_Plus:
        case Qt::Key_Equal: zoom_by(1.5, centre); break;
        case Qt::Key_Minus: zoom_by(1 / 1.5, centre); break;
        case Qt::Key_0: fit(); break;
        default: QWidget::keyPressEvent(event);
    }
}

void HeatmapView::leaveEvent(QEvent*) {
    if (hover_.x() >= 0) {
        hover_ = {-1, -1};
        update();
    }
    Q_EMIT hovered(-1, -1, std::numeric_limits<double>::quiet_NaN());
}

void HeatmapView::changeEvent(QEvent* event) {
    if (event->type() == QEvent::PaletteChange || event->type() == QEvent::FontChange) {
        build_pyramid();  // the masked colour follows the palette
        update_margins();
        clamp_view();
    }
    QWidget::changeEvent(event);
}

}  // namespace headscope::gui
