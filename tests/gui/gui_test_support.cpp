#include "gui_test_support.hpp"

#include <QDir>
#include <QSettings>
#include <QTemporaryDir>

#include "gui_app.hpp"
#include "prompt_panel.hpp"
#include "support/test_support.hpp"

namespace headscope::gui::test {

namespace {
QTemporaryDir& settings_dir() {
    static QTemporaryDir dir;
    return dir;
}
}  // namespace

void prepare_environment() {
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
    qputenv("XDG_CONFIG_HOME", settings_dir().path().toUtf8());
    qputenv("XDG_DATA_HOME", settings_dir().path().toUtf8());
    qputenv("HEADSCOPE_PLUGIN_PATH", "");  // only the plugins a test names
}

void prepare_settings() {
    install_quiet_message_handler();
    QApplication::setOrganizationName("headscope-tests");
    QApplication::setApplicationName("headscope-gui-tests");
    QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope, settings_dir().path());
}

bool wait_until(const std::function<bool()>& cond, int timeout_ms) { return QTest::qWaitFor(cond, timeout_ms); }

Workbench::Workbench(EngineOptions options, bool run_analyses)
    : engine(std::move(options)), session(engine), window(session) {
    window.set_interactive(false);
    window.set_save_settings(false);
    session.set_auto_analyses(run_analyses);
    window.resize(1400, 900);
    window.show();
}

bool Workbench::open_stories(const std::string& prompt) {
    PromptExample e;
    e.prompt = prompt;
    window.prompt_panel().set_text(QString::fromStdString(prompt));
    session.run_prompt(e);
    window.open_model(QString::fromStdString(headscope::test::stories_bin()));
    return wait_until([this] { return session.run() && session.pattern() && session.query_rows() && session.outcome(); }) &&
           settle();
}

bool Workbench::settle(int timeout_ms) {
    return wait_until([this] { return engine.idle() && session.pending_analyses().empty(); }, timeout_ms);
}

QJsonDocument head_probe(const std::vector<std::string>& args) {
    std::vector<std::string> argv{headscope::test::python(),
                                  headscope::test::source_dir() + "/tests/tools/llama2c_head_probe.py",
                                  headscope::test::stories_bin()};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto r = headscope::test::run_command(argv);
    if (r.exit_code != 0) qWarning("head probe failed: %s", r.err.c_str());
    return QJsonDocument::fromJson(QByteArray::fromStdString(r.out));
}

std::string ids_json(const std::vector<int32_t>& ids) {
    std::string s = "[";
    for (size_t i = 0; i < ids.size(); ++i) s += (i ? "," : "") + std::to_string(ids[i]);
    return s + "]";
}

}  // namespace headscope::gui::test
