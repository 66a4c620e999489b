#include "spectrum_plot.hpp"

#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>

#include <algorithm>
#include <cmath>

#include "color_map.hpp"
#include "head_view.hpp"

namespace headscope::gui {

SpectrumPlot::SpectrumPlot(QWidget* parent) : QWidget(parent) {
    setMouseTracking(true);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
}

void SpectrumPlot::set_spectrum(const Spectrum& spectrum) {
    spectrum_ = spectrum;
    hover_index_ = -1;
    update();
}

void SpectrumPlot::clear() { set_spectrum(Spectrum{}); }

QRectF SpectrumPlot::plot_rect() const {
    const QFontMetrics fm = fontMetrics();
    const double left = fm.horizontalAdvance("0.000e+00") + 8;
    const double top = fm.height() * 1.5 + 4;
    const double bottom = fm.height() * 2 + 8;
    return QRectF(left, top, std::max(20.0, width() - left - 12), std::max(20.0, height() - top - bottom));
}

double SpectrumPlot::y_of(double v, double lo, double hi, const QRectF& plot) const {
    if (spectrum_.log_y) {
        v = std::log10(std::max(v, 1e-30));
        lo = std::log10(std::max(lo, 1e-30));
        hi = std::log10(std::max(hi, 1e-30));
    }
    if (hi <= lo) hi = lo + 1;
    return plot.bottom() - (v - lo) / (hi - lo) * plot.height();
}

void SpectrumPlot::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.fillRect(rect(), palette().color(QPalette::Base));
    const QFontMetrics fm = fontMetrics();
    size_t n = 0;
    double lo = INFINITY, hi = -INFINITY;
    for (const auto& s : spectrum_.series) {
        n = std::max(n, s.size());
        for (double v : s)
            if (std::isfinite(v) && (!spectrum_.log_y || v > 0)) {
                lo = std::min(lo, v);
                hi = std::max(hi, v);
            }
    }
    if (n == 0 || !std::isfinite(lo)) {
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(rect(), Qt::AlignCenter, "no spectrum");
        return;
    }
    if (!spectrum_.log_y) lo = std::min(lo, 0.0);
    if (hi <= lo) hi = lo + 1;
    const QRectF plot = plot_rect();
    const QColor ink = palette().color(QPalette::Text);
    const QColor grid = palette().color(QPalette::Mid);
    p.setPen(ink);
    p.drawText(QRectF(0, 0, width(), fm.height() + 4), Qt::AlignHCenter | Qt::AlignVCenter,
               QString::fromStdString(spectrum_.title));
    // y ticks: 5 levels (decades when log)
    for (int i = 0; i <= 4; ++i) {
        double v;
        if (spectrum_.log_y)
            v = std::pow(10.0, std::log10(lo) + (std::log10(hi) - std::log10(lo)) * i / 4.0);
        else
            v = lo + (hi - lo) * i / 4.0;
        const double y = y_of(v, lo, hi, plot);
        p.setPen(QPen(grid, 0.5, Qt::DotLine));
        p.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y));
        p.setPen(ink);
        p.drawText(QRectF(0, y - fm.height() / 2.0, plot.left() - 5, fm.height()), Qt::AlignRight | Qt::AlignVCenter,
                   format_value(v));
    }
    p.setPen(grid);
    p.drawRect(plot);
    const double dx = n > 1 ? plot.width() / static_cast<double>(n - 1) : 0;
    auto x_of = [&](size_t i) { return n > 1 ? plot.left() + dx * static_cast<double>(i) : plot.center().x(); };
    p.setPen(ink);
    const int step = std::max<int>(1, static_cast<int>(std::ceil((fm.horizontalAdvance("000") + 10) / std::max(dx, 1.0))));
    for (size_t i = 0; i < n; i += static_cast<size_t>(step))
        p.drawText(QRectF(x_of(i) - 20, plot.bottom() + 2, 40, fm.height()), Qt::AlignHCenter, QString::number(i));
    p.drawText(QRectF(plot.left(), plot.bottom() + fm.height() + 2, plot.width(), fm.height()), Qt::AlignHCenter,
               QString::fromStdString(spectrum_.x_axis));

    p.setRenderHint(QPainter::Antialiasing);
    for (size_t s = 0; s < spectrum_.series.size(); ++s) {
        const auto& series = spectrum_.series[s];
        const QColor c = head_color(static_cast<int>(s));
        QPainterPath path;
        bool started = false;
        for (size_t i = 0; i < series.size(); ++i) {
            if (!std::isfinite(series[i]) || (spectrum_.log_y && series[i] <= 0)) continue;
            const QPointF pt(x_of(i), y_of(series[i], lo, hi, plot));
            if (!started)
                path.moveTo(pt);
            else
                path.lineTo(pt);
            started = true;
        }
        p.setPen(QPen(c, 2));
        p.setBrush(Qt::NoBrush);
        p.drawPath(path);
        if (series.size() <= 64) {
            p.setBrush(c);
            for (size_t i = 0; i < series.size(); ++i)
                if (std::isfinite(series[i]) && (!spectrum_.log_y || series[i] > 0))
                    p.drawEllipse(QPointF(x_of(i), y_of(series[i], lo, hi, plot)), 2.5, 2.5);
        }
        // legend
        const QString name = s < spectrum_.series_names.size() ? QString::fromStdString(spectrum_.series_names[s])
                                                               : QString("series %1").arg(s);
        const double lx = plot.right() - 120, ly = plot.top() + 6 + fm.height() * static_cast<double>(s);
        p.setPen(QPen(c, 3));
        p.drawLine(QPointF(lx, ly + fm.height() / 2.0), QPointF(lx + 16, ly + fm.height() / 2.0));
        p.setPen(ink);
        p.drawText(QPointF(lx + 20, ly + fm.ascent()), name);
    }
    if (hover_index_ >= 0 && static_cast<size_t>(hover_index_) < n) {
        const double x = x_of(static_cast<size_t>(hover_index_));
        p.setPen(QPen(grid, 1, Qt::DashLine));
        p.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()));
        QStringList parts{QString("%1 %2").arg(QString::fromStdString(spectrum_.x_axis)).arg(hover_index_)};
        for (size_t s = 0; s < spectrum_.series.size(); ++s)
            if (static_cast<size_t>(hover_index_) < spectrum_.series[s].size())
                parts << QString("%1 %2")
                             .arg(s < spectrum_.series_names.size() ? QString::fromStdString(spectrum_.series_names[s]) : QString())
                             .arg(format_value(spectrum_.series[s][static_cast<size_t>(hover_index_)]));
        p.setPen(ink);
        p.drawText(QRectF(plot.left() + 6, plot.top() + 4, plot.width() - 140, fm.height() * 3), Qt::AlignLeft | Qt::TextWordWrap,
                   parts.join("   "));
    }
}

void SpectrumPlot::mouseMoveEvent(QMouseEvent* event) {
    size_t n = 0;
    for (const auto& s : spectrum_.series) n = std::max(n, s.size());
    const QRectF plot = plot_rect();
    int index = -1;
    if (n > 0 && plot.adjusted(-5, 0, 5, 0).contains(event->position()))
        index = n > 1 ? static_cast<int>(std::lround((event->position().x() - plot.left()) / plot.width() * static_cast<double>(n - 1)))
                      : 0;
    if (index >= static_cast<int>(n)) index = static_cast<int>(n) - 1;
    if (index != hover_index_) {
        hover_index_ = index;
        update();
    }
}

void SpectrumPlot::leaveEvent(QEvent*) {
    hover_index_ = -1;
    update();
}

}  // namespace headscope::gui
