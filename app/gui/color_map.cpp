#include "color_map.hpp"

#include <QPainter>

#include <algorithm>
#include <cmath>

namespace headscope::gui {

QRgb to_qrgb(Rgb c) { return qRgb(c.r, c.g, c.b); }

// The core's colour maps (headscope/colour_map.hpp), sampled into 256 entries.
ColorMap::ColorMap(Scale scale) {
    for (size_t i = 0; i < lut_.size(); ++i) lut_[i] = to_qrgb(colour_at(static_cast<double>(i) / 255.0, scale));
}

const ColorMap& ColorMap::sequential() {
    static const ColorMap map(Scale::sequential);
    return map;
}

const ColorMap& ColorMap::diverging() {
    static const ColorMap map(Scale::diverging);
    return map;
}

QRgb ColorMap::at(double t) const {
    if (std::isnan(t)) return to_qrgb(nan_colour());
    t = std::clamp(t, 0.0, 1.0);
    return lut_[static_cast<size_t>(std::lround(t * 255.0))];
}

ValueRange ValueRange::of(const std::vector<double>& values, Scale scale) {
    const headscope::ValueRange core = value_range(values, scale);
    ValueRange r;
    r.lo = core.lo;
    r.hi = core.hi;
    r.scale = scale;
    return r;
}

ValueRange ValueRange::of(const float* values, size_t count, Scale scale) {
    std::vector<double> v(values, values + count);
    return of(v, scale);
}

double ValueRange::normalise(double v) const {
    if (!std::isfinite(v)) return std::nan("");
    return (v - lo) / (hi - lo);
}

QColor text_color_on(QRgb background) {
    const Rgb c = text_colour_on(Rgb{static_cast<uint8_t>(qRed(background)), static_cast<uint8_t>(qGreen(background)),
                                     static_cast<uint8_t>(qBlue(background))});
    return QColor(c.r, c.g, c.b);
}

QString format_value(double v) {
    if (std::isnan(v)) return "–";
    const double a = std::abs(v);
    if (a != 0 && (a < 1e-3 || a >= 1e5)) return QString::number(v, 'e', 2);
    if (a >= 100) return QString::number(v, 'f', 1);
    return QString::number(v, 'f', 3);
}

ColorLegend::ColorLegend(QWidget* parent) : QWidget(parent) {
    setMinimumHeight(34);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
}

void ColorLegend::set_range(const ValueRange& range) {
    range_ = range;
    valid_ = true;
    update();
}

void ColorLegend::set_caption(const QString& caption) {
    caption_ = caption;
    update();
}

QSize ColorLegend::sizeHint() const { return {240, fontMetrics().height() * 2 + 14}; }

void ColorLegend::paintEvent(QPaintEvent*) {
    if (!valid_) return;
    QPainter p(this);
    const QFontMetrics fm = fontMetrics();
    const int bar_h = 10;
    const int margin = 6;
    const QRect bar(margin, 2, width() - 2 * margin, bar_h);
    const auto& lut = ColorMap::for_scale(range_.scale).table();
    QImage strip(256, 1, QImage::Format_RGB32);
    for (int i = 0; i < 256; ++i) strip.setPixel(i, 0, lut[static_cast<size_t>(i)]);
    p.drawImage(bar, strip);
    p.setPen(palette().color(QPalette::Mid));
    p.drawRect(bar.adjusted(0, 0, -1, -1));
    p.setPen(palette().color(QPalette::WindowText));
    const int y = bar.bottom() + 2 + fm.ascent();
    const QString lo = format_value(range_.lo), hi = format_value(range_.hi);
    const QString mid = format_value((range_.lo + range_.hi) / 2);
    p.drawText(bar.left(), y, lo);
    p.drawText(bar.right() - fm.horizontalAdvance(hi), y, hi);
    const QString centre = caption_.isEmpty() ? mid : mid + "   " + caption_;
    p.drawText(bar.center().x() - fm.horizontalAdvance(mid) / 2, y, centre);
}

}  // namespace headscope::gui
