// Generic rendering of Result items, so an analysis (built-in or from a plugin) shows up in the
// GUI with no code of its own: HeadGrid -> head grid, Matrix -> heatmap, Spectrum -> plot,
// Table -> table, TokenScores -> tinted token strip, Graph -> layered graph.
#pragma once

#include <QString>

#include <string>

#include "headscope/sdk/result.hpp"

class QTableWidget;
class QWidget;

namespace headscope::gui {

class Session;

// A widget showing the item; clicks on heads select them in the session (when given).
QWidget* make_item_widget(const ResultItem& item, Session* session, QWidget* parent = nullptr);

// Fills a table widget with a Table item (numbers right-aligned and sortable).
void fill_table(QTableWidget& widget, const Table& table);

QString cell_text(const Cell& cell);

}  // namespace headscope::gui
