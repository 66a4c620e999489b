// Helpers for the Qt tests of headscope-gui: an offscreen application with throw-away settings,
// waiting on the event loop, a workbench window on stories260K, and the independent numpy probe.
#pragma once

#include <QApplication>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine.hpp"
#include "main_window.hpp"
#include "session.hpp"

namespace headscope::gui::test {

// Offscreen platform (unless one is set) and settings in a temporary folder; call before the
// QApplication exists.
void prepare_environment();
// After the QApplication exists: QSettings go to the temporary folder.
void prepare_settings();

// Spins the event loop until cond() holds; false on timeout.
bool wait_until(const std::function<bool()>& cond, int timeout_ms = 180000);

struct Workbench {
    explicit Workbench(EngineOptions options = {}, bool run_analyses = false);
    Engine engine;
    Session session;
    MainWindow window;

    // Opens stories260K, runs the prompt and waits for everything the views need.
    bool open_stories(const std::string& prompt);
    // Waits until the engine is idle and no analysis is pending.
    bool settle(int timeout_ms = 300000);
};

// Runs tests/tools/llama2c_head_probe.py on stories260K; returns its parsed JSON.
QJsonDocument head_probe(const std::vector<std::string>& args);
std::string ids_json(const std::vector<int32_t>& ids);

}  // namespace headscope::gui::test

#define HEADSCOPE_GUI_TEST_MAIN(TestClass)                         \
    int main(int argc, char** argv) {                              \
        headscope::gui::test::prepare_environment();               \
        QApplication app(argc, argv);                              \
        headscope::gui::test::prepare_settings();                  \
        TestClass test;                                            \
        return QTest::qExec(&test, argc, argv);                    \
    }
