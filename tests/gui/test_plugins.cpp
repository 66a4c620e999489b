// Plugins: a plugin whose registration throws and a file that is no library are listed with
// their errors while the app stays up; a working plugin's analysis appears in the grid's choices
// and renders through the generic views, with no GUI code of its own.
#include <QComboBox>
#include <QFile>
#include <QTemporaryDir>
#include <QTreeWidget>

#include "gui_test_support.hpp"
#include "head_grid_panel.hpp"
#include "head_grid_view.hpp"
#include "plugins_dialog.hpp"
#include "results_view.hpp"

using namespace headscope::gui;
using namespace headscope::gui::test;

class PluginsTest : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void failing_plugins_show_their_errors_and_the_app_stays_up() {
        QTemporaryDir junk;
        {
            QFile f(junk.filePath("not_a_library.so"));
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write("this is not an ELF file");
        }
        EngineOptions options;
        options.plugin_dirs = {HEADSCOPE_THROWING_PLUGIN_DIR, junk.path().toStdString(), HEADSCOPE_GOOD_PLUGIN_DIR};
        Workbench wb(options);
        QVERIFY(wait_until([&] { return wb.session.plugins() != nullptr; }, 60000));

        PluginsDialog& dialog = wb.window.plugins_dialog();
        dialog.show();
        const QStringList errors = dialog.shown_errors();
        QVERIFY2(errors.size() == 2, qPrintable(errors.join("\n")));
        QVERIFY(errors.join("\n").contains("deliberate failure while registering"));
        QVERIFY(errors.join("\n").contains("not_a_library.so"));
        bool listed = false;
        for (int i = 0; i < dialog.analyses().topLevelItemCount(); ++i) {
            const QTreeWidgetItem* item = dialog.analyses().topLevelItem(i);
            if (item->text(0) == "test_head_index") {
                listed = true;
                QCOMPARE(item->text(2), QString("1.2.3"));
                QVERIFY(item->text(3).contains("headscope_gui_test_good_plugin"));
            }
        }
        QVERIFY(listed);

        // Still up: a model loads and a prompt runs.
        QVERIFY(wb.open_stories("Once upon a time there was a cat."));
        QVERIFY(wb.session.run()->ids.size() > 3);
    }

    void a_plugin_analysis_appears_in_the_grid_and_renders_generically() {
        EngineOptions options;
        options.plugin_dirs = {HEADSCOPE_GOOD_PLUGIN_DIR};
        Workbench wb(options);
        QVERIFY(wb.open_stories("Once upon a time there was a cat."));
        wb.session.run_analysis("test_head_index");
        QVERIFY(wb.settle());
        HeadGridPanel& panel = wb.window.grid_panel();
        const int index = panel.choice_box().findData("test_head_index/head_index");
        QVERIFY(index >= 0);
        QCOMPARE(panel.choice_box().itemText(index), QString("Test head index: Head index"));
        QVERIFY(panel.choose("test_head_index/head_index"));
        const headscope::HeadGrid& shown = panel.view().grid();
        QCOMPARE(shown.layers, wb.session.model()->n_layers);
        QCOMPARE(shown.heads, wb.session.model()->n_heads);
        for (int l = 0; l < shown.layers; ++l)
            for (int h = 0; h < shown.heads; ++h) QCOMPARE(shown.at(l, h), 100.0 * l + h);
        // Clicking it selects the head, as for a built-in grid.
        QTest::mouseClick(&panel.view(), Qt::LeftButton, {}, panel.view().cell_rect(2, 6).center().toPoint());
        QCOMPARE(wb.session.layer(), 2);
        QCOMPARE(wb.session.head(), 6);
        // The results browser renders it too.
        QVERIFY(wb.window.results_view().show_item("test_head_index/head_index"));
        QVERIFY(wb.window.results_view().current_item_widget() != nullptr);
        QVERIFY(wb.window.results_view().current_item_widget()->findChild<HeadGridView*>() != nullptr);
    }

#ifdef HEADSCOPE_PYTHON_PLUGINS
    // An analysis written in Python (the template) runs on the engine thread through the embedded
    // interpreter and its HeadGrid shows in the grid like any other.
    void a_python_analysis_appears_in_the_grid() {
        QTemporaryDir dir;
        QVERIFY(QFile::copy(HEADSCOPE_SOURCE_DIR "/plugins/python_template/first_token_attention.py",
                            dir.filePath("first_token_attention.py")));
        EngineOptions options;
        options.plugin_dirs = {dir.path().toStdString()};
        Workbench wb(options);
        QVERIFY(wb.open_stories("Once upon a time there was a cat."));
        wb.session.run_analysis("first_token_attention");
        QVERIFY(wb.settle());
        HeadGridPanel& panel = wb.window.grid_panel();
        QVERIFY(panel.choose("first_token_attention/share"));
        const headscope::HeadGrid& shown = panel.view().grid();
        QCOMPARE(shown.layers, wb.session.model()->n_layers);
        QCOMPARE(shown.heads, wb.session.model()->n_heads);
        double total = 0;
        for (double v : shown.values) {
            QVERIFY(v >= 0.0 && v <= 1.0);  // shares of attention
            total += v;
        }
        QVERIFY(total > 0.0);
    }
#endif
};

HEADSCOPE_GUI_TEST_MAIN(PluginsTest)
#include "test_plugins.moc"
