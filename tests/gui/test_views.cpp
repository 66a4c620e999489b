// Views follow the selection: clicking a head in the grid shows that head's pattern (checked
// against an independent numpy forward pass), clicking a token moves the query everywhere.
#include <QJsonArray>

#include <cmath>

#include "gui_test_support.hpp"
#include "head_grid_panel.hpp"
#include "head_grid_view.hpp"
#include "head_view.hpp"
#include "heatmap_view.hpp"
#include "pattern_view.hpp"
#include "token_strip.hpp"

using namespace headscope::gui;
using namespace headscope::gui::test;

namespace {
const char* kPrompt = "Once upon a time, there was a little dog. The dog liked to play with the ball.";

// Largest |shown - reference| over the pattern, or infinity on a shape mismatch.
double pattern_error(const HeatmapData& shown, const QJsonArray& reference) {
    if (!shown.values || reference.size() != shown.rows) return INFINITY;
    double worst = 0;
    for (int r = 0; r < shown.rows; ++r) {
        const QJsonArray row = reference[r].toArray();
        if (row.size() != shown.cols) return INFINITY;
        for (int c = 0; c < shown.cols; ++c)
            worst = std::max(worst, std::abs((*shown.values)[static_cast<size_t>(r * shown.cols + c)] - row[c].toDouble()));
    }
    return worst;
}
}  // namespace

class ViewsTest : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void selecting_a_head_in_the_grid_updates_the_pattern_view() {
        Workbench wb;
        QVERIFY(wb.open_stories(kPrompt));
        PatternView& pattern = wb.window.pattern_view();
        QCOMPARE(pattern.shown_head(), std::make_pair(0, 0));
        const std::vector<int32_t> ids = wb.session.run()->ids;

        HeadGridView& grid = wb.window.grid_panel().view();
        QVERIFY(grid.has_grid());
        QTest::mouseClick(&grid, Qt::LeftButton, {}, grid.cell_rect(3, 5).center().toPoint());
        QCOMPARE(wb.session.layer(), 3);
        QCOMPARE(wb.session.head(), 5);
        QVERIFY(wait_until([&] { return pattern.shown_head() == std::make_pair(3, 5); }, 30000));
        QVERIFY(pattern.title_text().startsWith("L3H5"));

        // The shown values are L3H5's attention pattern, computed independently in numpy.
        const QJsonDocument ref = head_probe({"pattern", ids_json(ids), "3", "5"});
        const double error = pattern_error(pattern.heatmap().data(), ref.object()["pattern"].toArray());
        QVERIFY2(error < 1e-4, qPrintable(QString("max |shown - numpy| = %1").arg(error)));
        const QJsonDocument other = head_probe({"pattern", ids_json(ids), "0", "0"});
        QVERIFY(pattern_error(pattern.heatmap().data(), other.object()["pattern"].toArray()) > 1e-2);

        // The grid outlines the head; hovering it reads its value.
        QCOMPARE(grid.tooltip_text(3, 5).contains("L3H5"), true);
    }

    void clicking_a_token_moves_the_query_in_every_view() {
        Workbench wb;
        QVERIFY(wb.open_stories(kPrompt));
        wb.session.select_head(2, 1);
        TokenStrip& strip = wb.window.token_strip();
        const int n = strip.count();
        QVERIFY(n > 6);
        const int query = n / 2;
        QTest::mouseClick(&strip, Qt::LeftButton, {}, strip.chip_rect(query).center());
        QCOMPARE(wb.session.query(), query);
        QCOMPARE(strip.selected(), query);
        QVERIFY(wait_until([&] {
            auto rows = wb.session.query_rows();
            return rows && rows->query == query && rows->layer == 2;
        }, 30000));
        // The head view's rows are the query's attention row of every head of layer 2.
        auto rows = wb.session.query_rows();
        const QJsonDocument ref = head_probe({"pattern", ids_json(wb.session.run()->ids), "2", "1"});
        const QJsonArray row = ref.object()["pattern"].toArray()[query].toArray();
        for (int k = 0; k < rows->size; ++k)
            QVERIFY(std::abs(rows->values[static_cast<size_t>(1 * rows->size + k)] - row[k].toDouble()) < 1e-4);
        QCOMPARE(wb.window.head_view().shown_heads(), std::set<int>{1});

        // Clicking a row of the pattern view moves the query too.
        QVERIFY(wait_until([&] { return wb.window.pattern_view().shown_head() == std::make_pair(2, 1); }, 30000));
        wb.window.show_view("pattern");
        HeatmapView& map = wb.window.pattern_view().heatmap();
        QTest::qWait(50);
        const QPoint cell = [&] {
            for (int y = 0; y < map.height(); ++y)
                for (int x = 0; x < map.width(); x += 2)
                    if (map.cell_at(QPointF(x, y)).y() == 3) return QPoint(x, y);
            return QPoint(-1, -1);
        }();
        QVERIFY(cell.x() >= 0);
        QTest::mouseClick(&map, Qt::LeftButton, {}, cell);
        QCOMPARE(wb.session.query(), 3);
        QCOMPARE(strip.selected(), 3);
    }
};

HEADSCOPE_GUI_TEST_MAIN(ViewsTest)
#include "test_views.moc"
