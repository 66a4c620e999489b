#include "result_item_view.hpp"

#include <QHeaderView>
#include <QLabel>
#include <QScrollArea>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <memory>

#include "color_map.hpp"
#include "graph_view.hpp"
#include "head_grid_view.hpp"
#include "heatmap_view.hpp"
#include "session.hpp"
#include "spectrum_plot.hpp"
#include "token_strip.hpp"

namespace headscope::gui {

namespace {

// A table item whose number cells sort as numbers.
class NumberItem : public QTableWidgetItem {
public:
    NumberItem(const QString& text, double value) : QTableWidgetItem(text), value_(value) {
        setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    }
    bool operator<(const QTableWidgetItem& other) const override {
        if (auto* n = dynamic_cast<const NumberItem*>(&other)) return value_ < n->value_;
        return QTableWidgetItem::operator<(other);
    }

private:
    double value_;
};

QWidget* with_legend(QWidget* view, const ValueRange& range, QWidget* parent) {
    auto* box = new QWidget(parent);
    auto* layout = new QVBoxLayout(box);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(view, 1);
    auto* legend = new ColorLegend;
    legend->set_range(range);
    layout->addWidget(legend);
    return box;
}

}  // namespace

QString cell_text(const Cell& cell) {
    if (const auto* d = std::get_if<double>(&cell)) return format_value(*d);
    if (const auto* i = std::get_if<int64_t>(&cell)) return QString::number(*i);
    QString s = QString::fromStdString(std::get<std::string>(cell));
    s.replace('\n', QChar(0x21B5)).replace('\t', QChar(0x2192));
    return s;
}

void fill_table(QTableWidget& widget, const Table& table) {
    widget.setSortingEnabled(false);
    widget.clear();
    widget.setColumnCount(static_cast<int>(table.columns.size()));
    widget.setRowCount(static_cast<int>(table.rows.size()));
    QStringList headers;
    for (const auto& c : table.columns) headers << QString::fromStdString(c);
    widget.setHorizontalHeaderLabels(headers);
    for (size_t r = 0; r < table.rows.size(); ++r)
        for (size_t c = 0; c < table.rows[r].size() && c < table.columns.size(); ++c) {
            const Cell& cell = table.rows[r][c];
            QTableWidgetItem* item;
            if (const auto* d = std::get_if<double>(&cell))
                item = new NumberItem(format_value(*d), *d);
            else if (const auto* i = std::get_if<int64_t>(&cell))
                item = new NumberItem(QString::number(*i), static_cast<double>(*i));
            else
                item = new QTableWidgetItem(cell_text(cell));
            item->setFlags(item->flags() & ~Qt::ItemIsEditable);
            widget.setItem(static_cast<int>(r), static_cast<int>(c), item);
        }
    widget.setSortingEnabled(true);
    // Short columns fit their contents; long text columns share the rest and wrap.
    bool any_long = false;
    for (size_t c = 0; c < table.columns.size(); ++c) {
        int longest = 0;
        for (const auto& row : table.rows)
            if (c < row.size()) longest = std::max(longest, static_cast<int>(cell_text(row[c]).size()));
        const bool long_text = longest > 24;
        any_long |= long_text;
        widget.horizontalHeader()->setSectionResizeMode(static_cast<int>(c),
                                                        long_text ? QHeaderView::Stretch : QHeaderView::ResizeToContents);
    }
    widget.horizontalHeader()->setStretchLastSection(!any_long);
    widget.setWordWrap(true);
    widget.verticalHeader()->setVisible(false);
    widget.verticalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
}

QWidget* make_item_widget(const ResultItem& item, Session* session, QWidget* parent) {
    if (const auto* g = std::get_if<HeadGrid>(&item)) {
        auto* view = new HeadGridView;
        view->set_grid(g);
        if (session) {
            view->set_selected(session->layer(), session->head());
            QObject::connect(view, &HeadGridView::headClicked, session, &Session::select_head);
            QObject::connect(session, &Session::selectionChanged, view,
                             [view, session] { view->set_selected(session->layer(), session->head()); });
        }
        return with_legend(view, view->range(), parent);
    }
    if (const auto* m = std::get_if<Matrix>(&item)) {
        auto* view = new HeatmapView;
        HeatmapData d;
        d.rows = m->rows;
        d.cols = m->cols;
        d.values = std::make_shared<const std::vector<float>>(m->values.begin(), m->values.end());
        for (const auto& s : m->row_labels) d.row_labels << chip_text(s);
        for (const auto& s : m->col_labels) d.col_labels << chip_text(s);
        d.row_axis = QString::fromStdString(m->row_axis);
        d.col_axis = QString::fromStdString(m->col_axis);
        d.scale = m->scale;
        view->set_data(std::move(d));
        return with_legend(view, view->range(), parent);
    }
    if (const auto* s = std::get_if<Spectrum>(&item)) {
        auto* plot = new SpectrumPlot(parent);
        plot->set_spectrum(*s);
        return plot;
    }
    if (const auto* t = std::get_if<Table>(&item)) {
        auto* table = new QTableWidget(parent);
        fill_table(*table, *t);
        return table;
    }
    if (const auto* ts = std::get_if<TokenScores>(&item)) {
        auto* scroll = new QScrollArea(parent);
        scroll->setWidgetResizable(true);
        auto* box = new QWidget;
        auto* layout = new QVBoxLayout(box);
        auto* strip = new TokenStrip;
        strip->set_tokens(ts->tokens);
        strip->set_scores(ts->scores, ts->scale);
        layout->addWidget(strip);
        auto* legend = new ColorLegend;
        legend->set_range(ValueRange::of(ts->scores, ts->scale));
        layout->addWidget(legend);
        layout->addStretch(1);
        if (session) QObject::connect(strip, &TokenStrip::tokenClicked, session, &Session::select_query);
        scroll->setWidget(box);
        return scroll;
    }
    const auto& graph = std::get<Graph>(item);
    auto* view = new GraphView(parent);
    view->set_graph(graph);
    if (session) {
        view->canvas().set_selected(session->layer(), session->head());
        QObject::connect(view, &GraphView::headClicked, session, &Session::select_head);
        QObject::connect(session, &Session::selectionChanged, view,
                         [view, session] { view->canvas().set_selected(session->layer(), session->head()); });
    }
    return view;
}

}  // namespace headscope::gui
