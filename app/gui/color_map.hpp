// Colour maps for heatmaps: the core's sequential (viridis: dark = low, bright = high) and
// diverging (blue = negative, neutral = 0, red = positive) maps of headscope/colour_map.hpp, as
// 256-entry lookup tables, and a value range that maps numbers onto them (the reports' range).
#pragma once

#include <QColor>
#include <QWidget>

#include <array>
#include <vector>

#include "headscope/colour_map.hpp"

namespace headscope::gui {

class ColorMap {
public:
    static const ColorMap& sequential();
    static const ColorMap& diverging();
    static const ColorMap& for_scale(Scale scale) { return scale == Scale::diverging ? diverging() : sequential(); }

    QRgb at(double t) const;  // t in [0, 1] (clamped; NaN gives the core's nan_colour())
    const std::array<QRgb, 256>& table() const { return lut_; }

private:
    explicit ColorMap(Scale scale);
    std::array<QRgb, 256> lut_{};
};

// Maps values to [0, 1]: sequential from lo..hi; diverging symmetric around 0 (-m..m).
struct ValueRange {
    double lo = 0;
    double hi = 1;
    Scale scale = Scale::sequential;
    static ValueRange of(const std::vector<double>& values, Scale scale);
    static ValueRange of(const float* values, size_t count, Scale scale);
    double normalise(double v) const;
    QRgb color(double v) const { return ColorMap::for_scale(scale).at(normalise(v)); }
};

// Black or white, whichever reads better on `background`.
QColor text_color_on(QRgb background);
QRgb to_qrgb(Rgb colour);

// A horizontal colour bar with its low, middle and high values.
class ColorLegend : public QWidget {
    Q_OBJECT
public:
    explicit ColorLegend(QWidget* parent = nullptr);
    void set_range(const ValueRange& range);
    void set_caption(const QString& caption);
    QSize sizeHint() const override;

protected:
    void paintEvent(QPaintEvent* event) override;

private:
    ValueRange range_;
    QString caption_;
    bool valid_ = false;
};

// Compact number formatting for cells, legends and readouts.
QString format_value(double v);

}  // namespace headscope::gui
