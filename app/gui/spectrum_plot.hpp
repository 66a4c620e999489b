// SpectrumPlot: one or more curves over an index (a Spectrum result item, e.g. a head's QK and
// OV singular values), with axes, optional log y, a legend and a hover readout.
#pragma once

#include <QWidget>

#include "headscope/sdk/result.hpp"

namespace headscope::gui {

class SpectrumPlot : public QWidget {
    Q_OBJECT
public:
    explicit SpectrumPlot(QWidget* parent = nullptr);
    void set_spectrum(const Spectrum& spectrum);
    void clear();
    const Spectrum& spectrum() const { return spectrum_; }
    QSize sizeHint() const override { return {420, 260}; }
    QSize minimumSizeHint() const override { return {160, 120}; }

protected:
    void paintEvent(QPaintEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void leaveEvent(QEvent* event) override;

private:
    QRectF plot_rect() const;
    double y_of(double v, double lo, double hi, const QRectF& plot) const;

    Spectrum spectrum_;
    int hover_index_ = -1;
};

}  // namespace headscope::gui
