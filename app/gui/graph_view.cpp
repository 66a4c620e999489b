#include "graph_view.hpp"

#include <QHBoxLayout>
#include <QLabel>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QSlider>
#include <QToolTip>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "color_map.hpp"

namespace headscope::gui {

namespace {

QColor kind_color(const std::string& kind) {
    if (kind == "Q" || kind == "q") return QColor(0x1f77b4);
    if (kind == "K" || kind == "k") return QColor(0x2ca02c);
    if (kind == "V" || kind == "v") return QColor(0xff7f0e);
    return QColor(0x7f7f7f);
}

constexpr double kNodeRadius = 9;

}  // namespace

GraphCanvas::GraphCanvas(QWidget* parent) : QWidget(parent) {
    setMouseTracking(true);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
}

void GraphCanvas::set_graph(const Graph& graph) {
    graph_ = graph;
    hover_ = -1;
    layout_nodes();
    update();
}

void GraphCanvas::set_max_edges(int n) {
    max_edges_ = n;
    update();
}

void GraphCanvas::set_selected(int layer, int head) {
    layer_ = layer;
    head_ = head;
    update();
}

void GraphCanvas::layout_nodes() {
    unit_pos_.clear();
    int max_layer = -1, max_head = -1;
    int loose = 0;
    for (const auto& n : graph_.nodes) {
        max_layer = std::max(max_layer, n.layer);
        max_head = std::max(max_head, n.head);
        if (n.layer < 0 || n.head < 0) ++loose;
    }
    columns_ = std::max(1, max_layer + 1 + (loose > 0 ? 1 : 0));
    rows_ = std::max({1, max_head + 1, loose});
    int loose_index = 0;
    for (const auto& n : graph_.nodes) {
        double col, row;
        if (n.layer >= 0 && n.head >= 0) {
            col = n.layer;
            row = n.head;
        } else {
            col = columns_ - 1;
            row = loose_index++;
        }
        unit_pos_.push_back(QPointF(columns_ > 1 ? col / (columns_ - 1) : 0.5, rows_ > 1 ? row / (rows_ - 1) : 0.5));
    }
}

QPointF GraphCanvas::node_position(int index) const {
    const QRectF area = QRectF(rect()).adjusted(40, 28, -40, -fontMetrics().height() - 22);
    const QPointF u = unit_pos_[static_cast<size_t>(index)];
    return QPointF(area.left() + u.x() * area.width(), area.top() + u.y() * area.height());
}

std::vector<int> GraphCanvas::shown_edges() const {
    std::vector<int> order(graph_.edges.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](int a, int b) {
        return std::abs(graph_.edges[static_cast<size_t>(a)].weight) > std::abs(graph_.edges[static_cast<size_t>(b)].weight);
    });
    if (static_cast<int>(order.size()) > max_edges_) order.resize(static_cast<size_t>(max_edges_));
    return order;
}

int GraphCanvas::node_at(QPointF pos) const {
    for (size_t i = 0; i < graph_.nodes.size(); ++i)
        if (QLineF(pos, node_position(static_cast<int>(i))).length() <= kNodeRadius + 2) return static_cast<int>(i);
    return -1;
}

void GraphCanvas::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.fillRect(rect(), palette().color(QPalette::Base));
    if (graph_.nodes.empty()) {
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(rect(), Qt::AlignCenter, "no graph");
        return;
    }
    p.setRenderHint(QPainter::Antialiasing);
    const QFontMetrics fm = fontMetrics();
    const QColor ink = palette().color(QPalette::Text);
    // layer headings
    int max_layer = -1;
    for (const auto& n : graph_.nodes) max_layer = std::max(max_layer, n.layer);
    p.setPen(ink);
    for (int l = 0; l <= max_layer; ++l) {
        const double x = columns_ > 1 ? 40 + static_cast<double>(l) / (columns_ - 1) * (width() - 80) : width() / 2.0;
        p.drawText(QRectF(x - 30, 4, 60, fm.height()), Qt::AlignCenter, QString("L%1").arg(l));
    }
    const std::vector<int> edges = shown_edges();
    if (edges.empty()) {
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(QRectF(0, height() - fm.height() - 4, width(), fm.height()), Qt::AlignCenter, "no edges above the threshold");
    }
    double max_w = 1e-12;
    for (int e : edges) max_w = std::max(max_w, std::abs(graph_.edges[static_cast<size_t>(e)].weight));
    const int selected_node = [&] {
        for (size_t i = 0; i < graph_.nodes.size(); ++i)
            if (graph_.nodes[i].layer == layer_ && graph_.nodes[i].head == head_) return static_cast<int>(i);
        return -1;
    }();
    // Edges of the hovered node stand out (others fade); the selected node's edges are drawn bold.
    const int focus = hover_;
    for (int e : edges) {
        const auto& edge = graph_.edges[static_cast<size_t>(e)];
        if (edge.from < 0 || edge.to < 0 || edge.from >= static_cast<int>(graph_.nodes.size()) ||
            edge.to >= static_cast<int>(graph_.nodes.size()))
            continue;
        const QPointF a = node_position(edge.from), b = node_position(edge.to);
        QColor c = kind_color(edge.kind);
        const double w = std::abs(edge.weight) / max_w;
        const bool touches = focus >= 0 && (edge.from == focus || edge.to == focus);
        const bool selected_edge = selected_node >= 0 && (edge.from == selected_node || edge.to == selected_node);
        c.setAlphaF(focus >= 0 && !touches ? 0.12 : 0.35 + 0.6 * w);
        p.setPen(QPen(c, (selected_edge ? 2.0 : 0.8) + 4.5 * w));
        QPainterPath path(a);
        const double mx = (a.x() + b.x()) / 2;
        path.cubicTo(QPointF(mx, a.y()), QPointF(mx, b.y()), b);
        p.setBrush(Qt::NoBrush);
        p.drawPath(path);
    }
    for (size_t i = 0; i < graph_.nodes.size(); ++i) {
        const QPointF c = node_position(static_cast<int>(i));
        const bool selected = static_cast<int>(i) == selected_node;
        p.setPen(QPen(selected ? palette().color(QPalette::Highlight) : ink, selected ? 3 : 1));
        p.setBrush(static_cast<int>(i) == hover_ ? palette().color(QPalette::Highlight).lighter(150) : palette().color(QPalette::Button));
        p.drawEllipse(c, kNodeRadius, kNodeRadius);
        const auto& node = graph_.nodes[i];
        const QString label = node.head >= 0 ? QString::number(node.head) : QString::fromStdString(node.label).left(3);
        p.setPen(palette().color(QPalette::ButtonText));
        p.drawText(QRectF(c.x() - kNodeRadius, c.y() - kNodeRadius, 2 * kNodeRadius, 2 * kNodeRadius), Qt::AlignCenter, label);
    }
    // legend of edge kinds
    double x = 8;
    std::vector<std::string> kinds;
    for (const auto& e : graph_.edges)
        if (std::find(kinds.begin(), kinds.end(), e.kind) == kinds.end()) kinds.push_back(e.kind);
    for (const auto& k : kinds) {
        p.setPen(QPen(kind_color(k), 3));
        const double y = height() - fm.height() / 2.0 - 4;
        p.drawLine(QPointF(x, y), QPointF(x + 14, y));
        p.setPen(ink);
        const QString text = QString::fromStdString(k.empty() ? std::string("edge") : k + "-composition");
        p.drawText(QPointF(x + 18, y + fm.ascent() / 2.0 - 1), text);
        x += 28 + fm.horizontalAdvance(text);
    }
}

void GraphCanvas::mousePressEvent(QMouseEvent* event) {
    const int i = node_at(event->position());
    if (i < 0) return;
    const auto& n = graph_.nodes[static_cast<size_t>(i)];
    if (n.layer >= 0 && n.head >= 0) Q_EMIT headClicked(n.layer, n.head);
}

void GraphCanvas::mouseMoveEvent(QMouseEvent* event) {
    const int i = node_at(event->position());
    if (i == hover_) return;
    hover_ = i;
    update();
    if (i < 0) {
        QToolTip::hideText();
        return;
    }
    const auto& n = graph_.nodes[static_cast<size_t>(i)];
    QStringList lines{QString("<b>%1</b>").arg(QString::fromStdString(n.label.empty() ? n.id : n.label).toHtmlEscaped())};
    std::vector<int> edges = shown_edges();
    for (int e : edges) {
        const auto& edge = graph_.edges[static_cast<size_t>(e)];
        if (edge.from != i && edge.to != i) continue;
        const auto& other = graph_.nodes[static_cast<size_t>(edge.from == i ? edge.to : edge.from)];
        lines << QString("%1 %2 %3: %4")
                     .arg(edge.from == i ? "→" : "←")
                     .arg(QString::fromStdString(other.label.empty() ? other.id : other.label).toHtmlEscaped())
                     .arg(QString::fromStdString(edge.kind))
                     .arg(format_value(edge.weight));
        if (lines.size() > 12) break;
    }
    QToolTip::showText(event->globalPosition().toPoint(), lines.join("<br>"), this);
}

GraphView::GraphView(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    auto* header = new QHBoxLayout;
    title_ = new QLabel;
    header->addWidget(title_, 1);
    edges_label_ = new QLabel;
    header->addWidget(edges_label_);
    edges_ = new QSlider(Qt::Horizontal);
    edges_->setRange(1, 200);
    edges_->setValue(30);
    edges_->setMaximumWidth(160);
    edges_->setToolTip("How many of the strongest edges to draw");
    header->addWidget(edges_);
    layout->addLayout(header);
    canvas_ = new GraphCanvas;
    layout->addWidget(canvas_, 1);
    connect(edges_, &QSlider::valueChanged, this, [this](int n) {
        canvas_->set_max_edges(n);
        edges_label_->setText(QString("strongest %1 edges").arg(n));
    });
    connect(edges_, &QSlider::actionTriggered, this, [this] { wanted_edges_ = edges_->sliderPosition(); });
    connect(canvas_, &GraphCanvas::headClicked, this, &GraphView::headClicked);
    canvas_->set_max_edges(edges_->value());
    edges_label_->setText(QString("strongest %1 edges").arg(edges_->value()));
}

void GraphView::set_graph(const Graph& graph) {
    title_->setText(QString::fromStdString(graph.title));
    title_->setToolTip(QString::fromStdString(graph.description));
    const int n = std::max<int>(1, static_cast<int>(graph.edges.size()));
    edges_->setMaximum(n);
    edges_->setValue(std::min(wanted_edges_, n));
    canvas_->set_graph(graph);
}

}  // namespace headscope::gui
