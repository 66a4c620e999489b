// GraphView: a Graph result item drawn in layers (heads as nodes, x = layer, y = head; other
// nodes in a column of their own), edges as curves coloured by kind (Q, K, V, ...) with width
// by weight. A slider keeps the strongest N edges; clicking a head node selects that head.
#pragma once

#include <QWidget>

#include <utility>
#include <vector>

#include "headscope/sdk/result.hpp"

class QSlider;
class QLabel;

namespace headscope::gui {

class GraphCanvas : public QWidget {
    Q_OBJECT
public:
    explicit GraphCanvas(QWidget* parent = nullptr);
    void set_graph(const Graph& graph);
    void set_max_edges(int n);
    void set_selected(int layer, int head);
    const Graph& graph() const { return graph_; }
    int node_at(QPointF pos) const;  // -1 when none
    QPointF node_position(int index) const;
    QSize sizeHint() const override { return {480, 320}; }
    QSize minimumSizeHint() const override { return {200, 140}; }

Q_SIGNALS:
    void headClicked(int layer, int head);

protected:
    void paintEvent(QPaintEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;

private:
    void layout_nodes();
    std::vector<int> shown_edges() const;  // indices of the strongest max_edges_ edges

    Graph graph_;
    std::vector<QPointF> unit_pos_;  // node positions in [0,1]^2
    int columns_ = 1;
    int rows_ = 1;
    int max_edges_ = 40;
    int layer_ = -1;
    int head_ = -1;
    int hover_ = -1;
};

class GraphView : public QWidget {
    Q_OBJECT
public:
    explicit GraphView(QWidget* parent = nullptr);
    void set_graph(const Graph& graph);
    GraphCanvas& canvas() { return *canvas_; }

Q_SIGNALS:
    void headClicked(int layer, int head);

private:
    GraphCanvas* canvas_;
    QSlider* edges_;
    QLabel* edges_label_;
    QLabel* title_;
    int wanted_edges_ = 30;  // what the user last chose; shown as far as the graph has edges
};

}  // namespace headscope::gui
