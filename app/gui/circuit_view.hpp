// Circuit view of the selected head: its QK and OV singular spectra and the tokens each leading
// singular direction reads from / writes to (from the qk_ov_svd result), its per-head scores,
// and the composition graph between heads (from the composition result), click-to-select.
#pragma once

#include <QWidget>

class QLabel;
class QTabWidget;

namespace headscope::gui {

class GraphView;
class Session;
class SpectrumPlot;

class CircuitView : public QWidget {
    Q_OBJECT
public:
    explicit CircuitView(Session& session, QWidget* parent = nullptr);
    SpectrumPlot& spectrum() { return *spectrum_; }
    GraphView& graph() { return *graph_; }
    QTabWidget& tables() { return *tables_; }

private:
    void refresh_head();
    void refresh_graph();

    Session& session_;
    QLabel* title_;
    QLabel* scores_;
    SpectrumPlot* spectrum_;
    QTabWidget* tables_;
    GraphView* graph_;
    QLabel* graph_note_;
};

}  // namespace headscope::gui
