// headscope-gui --screenshot renders every view (offscreen) to a non-empty picture, and the
// views that show the selected head differ between two selected heads.
#include <QFileInfo>
#include <QImage>
#include <QTemporaryDir>

#include <set>

#include "gui_test_support.hpp"
#include "support/test_support.hpp"

using namespace headscope::gui;

namespace {

const char* kPrompt = "Once upon a time, there was a little girl named Lily. She loved to play with her ball. One day, Lily";

// Runs the app once for all views with one selected head; returns its stdout+stderr on failure.
std::string shoot(const QString& folder, const std::string& head) {
    const auto r = headscope::test::run_command(
        {HEADSCOPE_GUI_EXE, headscope::test::stories_bin(), "--prompt", kPrompt, "--select", head, "--query", "12",
         "--view", "all", "--screenshot", (folder + "/{view}.png").toStdString(), "--size", "1280x820", "--timeout", "600"});
    return r.exit_code == 0 ? std::string() : "exit " + std::to_string(r.exit_code) + "\n" + r.out + r.err;
}

// Distinct colours in the picture (capped), to tell a drawn view from an empty one.
int colour_count(const QImage& image) {
    std::set<QRgb> colours;
    for (int y = 0; y < image.height(); y += 2)
        for (int x = 0; x < image.width(); x += 2) {
            colours.insert(image.pixel(x, y));
            if (colours.size() > 64) return 65;
        }
    return static_cast<int>(colours.size());
}

}  // namespace

class ScreenshotsTest : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void every_view_renders_and_follows_the_selected_head() {
        QTemporaryDir a, b;
        const std::string first = shoot(a.path(), "0.0");
        QVERIFY2(first.empty(), first.c_str());
        const std::string second = shoot(b.path(), "3.5");
        QVERIFY2(second.empty(), second.c_str());
        const QStringList views = MainWindow::view_names();
        const QStringList follow_head{"window", "grid", "pattern", "head", "circuit", "sinks", "interventions"};
        for (const QString& view : views) {
            const QImage one(a.filePath(view + ".png"));
            const QImage two(b.filePath(view + ".png"));
            QVERIFY2(!one.isNull() && !two.isNull(), qPrintable("no picture of " + view));
            QVERIFY2(one.width() >= 100 && one.height() >= 40, qPrintable(view + " is too small"));
            QVERIFY2(colour_count(one) > 8, qPrintable(view + " looks empty"));
            if (follow_head.contains(view))
                QVERIFY2(one != two, qPrintable(view + " is the same for L0H0 and L3H5"));
        }
    }

    void svg_export_of_a_view() {
        QTemporaryDir dir;
        const QString path = dir.filePath("pattern.svg");
        const auto r = headscope::test::run_command({HEADSCOPE_GUI_EXE, headscope::test::stories_bin(), "--prompt", kPrompt,
                                                     "--no-analyses", "--view", "pattern", "--screenshot", path.toStdString()});
        QVERIFY2(r.exit_code == 0, (r.out + r.err).c_str());
        const std::string svg = headscope::test::read_file(path.toStdString());
        QVERIFY(svg.find("<svg") != std::string::npos);
        QVERIFY(svg.find("<image") != std::string::npos);  // the heatmap, embedded
        QVERIFY(svg.find("L0H0 attention pattern") != std::string::npos);
    }

    void the_exported_report_opens_with_the_findings() {
        // The GUI's export (here without a window: --report) writes the same report as the CLI:
        // the Findings section first, then head cards drawing each head's pattern on the prompt.
        QTemporaryDir dir;
        const QString path = dir.filePath("report.html");
        const auto r = headscope::test::run_command({HEADSCOPE_GUI_EXE, "--report", path.toStdString(), "--timeout", "600"});
        QVERIFY2(r.exit_code == 0, (r.out + r.err).c_str());
        const std::string html = headscope::test::read_file(path.toStdString());
        const size_t findings = html.find("<section id=\"findings\">"), cards = html.find("<section id=\"head-cards\">");
        QVERIFY(findings != std::string::npos);
        QVERIFY(cards != std::string::npos);
        QCOMPARE(html.find("<section"), findings);
        QVERIFY(findings < cards);
        QVERIFY(html.find("<tr data-head=\"L", findings) < cards);  // the heads that matter
        const size_t card = html.find("<div class=\"card\"", cards);
        QVERIFY(card != std::string::npos);
        size_t next = html.find("<div class=\"card\"", card + 1);
        if (next == std::string::npos) next = html.find("</section>", card);
        QVERIFY(html.find("<svg", card) < next);             // its pattern, drawn
        QVERIFY(html.find("Attention of L", card) < next);   // on the GUI's prompt
        QVERIFY(html.find("data-value=", card) < next);      // and its scores
    }

    void a_missing_model_fails_with_a_message() {
        QTemporaryDir dir;
        const auto r = headscope::test::run_command({HEADSCOPE_GUI_EXE, "/nonexistent/model.gguf", "--screenshot",
                                                     dir.filePath("x.png").toStdString()});
        QVERIFY(r.exit_code != 0);
        QVERIFY(r.err.find("/nonexistent/model.gguf") != std::string::npos);
    }
};

HEADSCOPE_GUI_TEST_MAIN(ScreenshotsTest)
#include "test_screenshots.moc"
