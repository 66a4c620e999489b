#include "color_map.hpp"

#include <QPainter>

#include <algorithm>
#include <cmath>

namespace headscope::gui {

namespace {

QRgb lerp(QRgb a, QRgb b, double t) {
    auto mix = [t](int x, int y) { return static_cast<int>(std::lround(x + (y - x) * t)); };
    return qRgb(mix(qRed(a), qRed(b)), mix(qGreen(a), qGreen(b)), mix(qBlue(a), qBlue(b)));
}

}  // namespace

ColorMap::ColorMap(const std::vector<QRgb>& stops) {
    const size_t n = stops.size();
    for (size_t i = 0; i < lut_.size(); ++i) {
        const double x = static_cast<double>(i) / 255.0 * static_cast<double>(n - 1);
        const size_t j = std::min(n - 2, static_cast<size_t>(x));
        lut_[i] = lerp(stops[j], stops[j + 1], x - static_cast<double>(j));
    }
}

const ColorMap& ColorMap::sequential() {
    // viridis, sampled at ten points
    static const ColorMap map({0x440154, 0x482878, 0x3e4989, 0x31688e, 0x26828e, 0x1f9e89, 0x35b779, 0x6ece58,
                               0xb5de2b, 0xfde725});
    return map;
}

const ColorMap& ColorMap::diverging() {
    // ColorBrewer RdBu, reversed (blue = negative)
    static const ColorMap map(
        {0x2166ac, 0x4393c3, 0x92c5de, 0xd1e5f0, 0xf7f7f7, 0xfddbc7, 0xf4a582, 0xd6604d, 0xb2182b});
    return map;
}

QRgb ColorMap::at(double t) const {
    if (std::isnan(t)) return qRgb(128, 128, 128);
    t = std::clamp(t, 0.0, 1.0);
    return lut_[static_cast<size_t>(std::lround(t * 255.0))];
}

ValueRange ValueRange::of(const std::vector<double>& values, Scale scale) {
    ValueRange r;
    r.scale = scale;
    double lo = INFINITY, hi = -INFINITY;
    for (double v : values)
        if (std::isfinite(v)) {
            lo = std::min(lo, v);
            hi = std::max(hi, v);
        }
    if (!std::isfinite(lo)) lo = hi = 0;
    if (scale == Scale::diverging) {
        const double m = std::max(std::abs(lo), std::abs(hi));
        r.lo = -m;
        r.hi = m;
    } else {
        r.lo = std::min(lo, 0.0);  // sequential scales start at 0 unless values go below
        r.hi = hi;
    }
    if (r.hi <= r.lo) r.hi = r.lo + 1;
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
    const double luminance = 0.299 * qRed(background) + 0.587 * qGreen(background) + 0.114 * qBlue(background);
    return luminance > 140 ? QColor(Qt::black) : QColor(Qt::white);
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
