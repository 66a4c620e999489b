#include "gui_app.hpp"

#include <QApplication>
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFileInfo>
#include <QRegularExpression>
#include <QSettings>
#include <QTemporaryDir>
#include <QTimer>

#include <iostream>
#include <memory>

#include "engine.hpp"
#include "exporters.hpp"
#include "head_grid_panel.hpp"
#include "headscope/default_paths.hpp"
#include "headscope/error.hpp"
#include "headscope/sdk/prompts.hpp"
#include "main_window.hpp"
#include "prompt_panel.hpp"
#include "results_view.hpp"
#include "session.hpp"
#include "theme.hpp"

namespace headscope::gui {

namespace {

// The offscreen platform warns on every dock widget; the warning says nothing to a user.
QtMessageHandler previous_handler = nullptr;

void quiet_message_handler(QtMsgType type, const QMessageLogContext& context, const QString& message) {
    if (message.contains("propagateSizeHints") || message.startsWith("QStandardPaths: XDG_RUNTIME_DIR")) return;
    if (previous_handler)
        previous_handler(type, context, message);
    else
        std::cerr << qFormatLogMessage(type, context, message).toStdString() << std::endl;
}

// One head as the SDK reads it everywhere (L1H4, 1.4 or 1:4); nullopt when it does not parse.
std::optional<HeadRef> gui_parse_head(const QString& text) {
    try {
        return parse_head(text.toStdString());
    } catch (const UsageError&) {
        return std::nullopt;
    }
}

// Waits until the requested state is fully computed, renders the view and quits.
class ScreenshotRunner : public QObject {
public:
    ScreenshotRunner(QApplication& app, MainWindow& window, Engine& engine, const GuiOptions& options)
        : QObject(&window), app_(app), window_(window), engine_(engine), options_(options) {
        connect(&window_.session(), &Session::failed, this, [this](const QString& what, const QString& message) {
            if (what == "load" || what == "prompt") finish(1, "cannot " + what + ": " + message);
        });
        connect(&engine_, &Engine::exported, this, [this](const QString& path) {
            std::cout << "wrote the report of the built-in analyses to " << QFileInfo(path).absoluteFilePath().toStdString()
                      << std::endl;
            finish(0, {});
        });
        connect(&window_.session(), &Session::failed, this, [this](const QString& what, const QString& message) {
            if (what == "report") finish(1, "cannot write the report: " + message);
        });
        connect(&timer_, &QTimer::timeout, this, &ScreenshotRunner::poll);
        timer_.start(100);
        clock_.start();
    }

private:
    void poll() {
        if (clock_.elapsed() > options_.timeout_seconds * 1000LL) {
            finish(2, QString("timed out after %1 s waiting for the model and analyses").arg(options_.timeout_seconds));
            return;
        }
        Session& s = window_.session();
        const bool ready = s.run() && s.model() && engine_.idle() && s.pending_analyses().empty() && s.pattern() &&
                           s.query_rows() && (s.outcome() || !s.run());
        stable_ = ready ? stable_ + 1 : 0;
        if (stable_ < 3 || reporting_) return;
        if (!options_.report.isEmpty()) {
            reporting_ = true;  // written on the engine thread; exported() finishes
            std::vector<Result> results;
            for (const auto& [id, r] : s.results()) results.push_back(*r);
            const bool pdf = QFileInfo(options_.report).suffix().compare("pdf", Qt::CaseInsensitive) == 0;
            engine_.export_report(pdf ? QString() : options_.report, pdf ? options_.report : QString(), std::move(results));
            return;
        }
        const QStringList views = options_.view == "all" ? MainWindow::view_names() : QStringList{options_.view};
        for (const QString& name : views) {
            QWidget* view = window_.show_view(name);
            if (!view) {
                finish(1, "unknown view '" + name + "'; one of: " + MainWindow::view_names().join(", "));
                return;
            }
            // Let the tab switch lay out, scroll and paint before grabbing.
            QElapsedTimer settle;
            settle.start();
            while (settle.elapsed() < 150) QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
            QString path = options_.screenshot;
            path.replace("{view}", name);
            const QString error = save_widget_image(*view, path);
            if (!error.isEmpty()) {
                finish(1, error);
                return;
            }
            std::cout << "wrote " << path.toStdString() << " (" << name.toStdString() << ", " << view->width() << "x"
                      << view->height() << ")" << std::endl;
            if (name == "plugins") view->hide();
        }
        finish(0, {});
    }

    void finish(int code, const QString& message) {
        timer_.stop();
        if (!message.isEmpty()) std::cerr << "headscope-gui: " << message.toStdString() << std::endl;
        app_.exit(code);
    }

    QApplication& app_;
    MainWindow& window_;
    Engine& engine_;
    const GuiOptions& options_;
    QTimer timer_;
    QElapsedTimer clock_;
    int stable_ = 0;
    bool reporting_ = false;
};

}  // namespace

std::optional<GuiOptions> parse_gui_options(const QStringList& args, QString* error, int* exit_code) {
    QCommandLineParser parser;
    parser.setApplicationDescription("headscope workbench: look inside a transformer's attention heads.");
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument("MODEL", "A GGUF file, a llama2.c checkpoint or a Hugging Face folder (default: the built-in tiny-world).", "[MODEL]");
    QCommandLineOption tokenizer("tokenizer", "llama2.c tokenizer.bin for a .bin checkpoint.", "PATH");
    QCommandLineOption prompt("prompt", "The prompt to run.", "TEXT");
    QCommandLineOption prompts("prompts", "A JSONL prompt set to load into the picker.", "FILE");
    QCommandLineOption example("example", "Which example of --prompts to run (from 1).", "N", "1");
    QCommandLineOption select("select", "The head to select: L1H4 (or 1.4, 1:4).", "HEAD");
    QCommandLineOption query("query", "The query token position to select (default: the last).", "N");
    QCommandLineOption result("result", "The result item the All results tab shows, as ANALYSIS/ITEM or ANALYSIS.", "KEY");
    QCommandLineOption grid("grid", "The head grid to show, as ANALYSIS/ITEM (e.g. pattern_statistics/first_token_share).", "KEY");
    QCommandLineOption scale("scale", "Scale a head's output, LAYER.HEAD=FACTOR (0 ablates); repeatable.", "L.H=F");
    QCommandLineOption view("view", "The view --screenshot renders: " + MainWindow::view_names().join(", ") +
                                        ", or all (then {view} in the --screenshot path names each file).", "NAME", "window");
    QCommandLineOption screenshot("screenshot", "Render the view to this PNG (or .svg) once everything is computed, and exit.", "FILE");
    QCommandLineOption size("size", "Window size, WIDTHxHEIGHT.", "WxH");
    QCommandLineOption theme("theme", "light, dark or system.", "NAME");
    QCommandLineOption plugin_dir("plugin-dir", "Also load plugins from this folder; repeatable.", "DIR");
    QCommandLineOption no_analyses("no-analyses", "Do not run the analyses after each prompt.");
    QCommandLineOption report("report", "Without a window: run the analyses, write their report (.html or .pdf) and exit "
                                        "(what happens when there is no display).", "FILE");
    QCommandLineOption timeout("timeout", "--screenshot/--report: give up after this many seconds.", "SECONDS", "600");
    parser.addOptions({tokenizer, prompt, prompts, example, select, query, grid, result, scale, view, screenshot, size, theme,
                       plugin_dir, no_analyses, report, timeout});
    *exit_code = 2;
    if (!parser.parse(args)) {
        *error = parser.errorText();
        return std::nullopt;
    }
    if (parser.isSet("help")) {
        *error = parser.helpText();
        *exit_code = 0;
        return std::nullopt;
    }
    if (parser.isSet("version")) {
        *error = QString("headscope-gui %1").arg(HEADSCOPE_VERSION);
        *exit_code = 0;
        return std::nullopt;
    }
    GuiOptions o;
    const QStringList positional = parser.positionalArguments();
    if (positional.size() > 1) {
        *error = "give at most one MODEL";
        return std::nullopt;
    }
    if (!positional.isEmpty()) o.model = positional.front();
    o.tokenizer = parser.value(tokenizer);
    o.prompt = parser.value(prompt);
    o.prompts_file = parser.value(prompts);
    bool ok = true;
    o.example = parser.value(example).toInt(&ok) - 1;
    if (!ok || o.example < 0) {
        *error = "--example takes a number from 1";
        return std::nullopt;
    }
    if (parser.isSet(select)) {
        o.select = gui_parse_head(parser.value(select));
        if (!o.select) {
            *error = "--select takes a head: L1H4 (or 1.4, 1:4)";
            return std::nullopt;
        }
    }
    if (parser.isSet(query)) {
        o.query = parser.value(query).toInt(&ok);
        if (!ok || o.query < 0) {
            *error = "--query takes a token position (0 = the first token)";
            return std::nullopt;
        }
    }
    o.grid = parser.value(grid);
    o.result = parser.value(result);
    for (const QString& s : parser.values(scale)) {
        const auto head = gui_parse_head(s.section('=', 0, 0));
        const double factor = s.section('=', 1).toDouble(&ok);
        if (!head || !ok || factor < 0 || factor > 2) {
            *error = "--scale takes HEAD=FACTOR with FACTOR in 0..2, e.g. L1H4=0";
            return std::nullopt;
        }
        o.scales.push_back(HeadScale{head->layer, head->head, factor});
    }
    o.view = parser.value(view);
    if (!MainWindow::view_names().contains(o.view) && o.view != "all") {
        *error = "--view must be one of: " + MainWindow::view_names().join(", ") + ", all";
        return std::nullopt;
    }
    o.screenshot = parser.value(screenshot);
    if (o.view == "all" && !o.screenshot.isEmpty() && !o.screenshot.contains("{view}")) {
        *error = "--view all needs a --screenshot path with {view} in it, e.g. shots/{view}.png";
        return std::nullopt;
    }
    if (parser.isSet(size)) {
        static const QRegularExpression re(R"(^(\d+)[xX](\d+)$)");
        const auto m = re.match(parser.value(size));
        if (!m.hasMatch() || m.captured(1).toInt() < 200 || m.captured(2).toInt() < 150) {
            *error = "--size takes WIDTHxHEIGHT, at least 200x150";
            return std::nullopt;
        }
        o.size = QSize(m.captured(1).toInt(), m.captured(2).toInt());
    }
    o.report = parser.value(report);
    if (!o.report.isEmpty() && !o.screenshot.isEmpty()) {
        *error = "give --screenshot or --report, not both";
        return std::nullopt;
    }
    o.theme = parser.value(theme);
    o.plugin_dirs = parser.values(plugin_dir);
    o.analyses = !parser.isSet(no_analyses);
    o.timeout_seconds = parser.value(timeout).toInt(&ok);
    if (!ok || o.timeout_seconds <= 0) {
        *error = "--timeout takes a positive number of seconds";
        return std::nullopt;
    }
    return o;
}

QString default_gui_model() {
    const QString builtin = QString::fromStdString(default_model_path());
    if (QFileInfo::exists(builtin)) return builtin;
#ifdef HEADSCOPE_SHARED_DIR
    const QString dev = QString(HEADSCOPE_SHARED_DIR) + "/models/stories260K/stories260K.bin";
    if (QFileInfo::exists(dev)) return dev;
#endif
    return {};
}

PromptExample default_gui_prompt() {
    // The indirect-object example tiny-world was trained on (answer " Mary", 97% on tiny-world):
    // the grid, the circuits and the intervention panel all have something to show at once.
    PromptExample e;
    e.task = "ioi";
    e.prompt = "When Mary and John went to the store, John gave a drink to";
    e.answer = " Mary";
    e.alternative = " John";
    e.corrupted_prompt = "When Mary and John went to the store, Mary gave a drink to";
    return e;
}

void install_quiet_message_handler() {
    static bool installed = false;
    if (installed) return;
    installed = true;
    previous_handler = qInstallMessageHandler(quiet_message_handler);
}

bool display_available() {
    const QByteArray platform = qgetenv("QT_QPA_PLATFORM");
    if (!platform.isEmpty()) return platform != "offscreen" && platform != "minimal";
    return !qEnvironmentVariableIsEmpty("DISPLAY") || !qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY");
}

int run_gui(QApplication& app, const GuiOptions& options) {
    install_quiet_message_handler();
    const bool screenshot = !options.screenshot.isEmpty() || !options.report.isEmpty();
    std::unique_ptr<QTemporaryDir> settings_dir;
    if (screenshot) {
        // A screenshot shows the defaults, not whatever this user last chose, and saves nothing.
        settings_dir = std::make_unique<QTemporaryDir>();
        QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope, settings_dir->path());
    }
    init_theme(app);
    apply_theme(parse_theme(options.theme.isEmpty() ? QSettings().value("view/theme", "system").toString() : options.theme));

    EngineOptions engine_options;
    for (const QString& d : options.plugin_dirs) engine_options.plugin_dirs.push_back(d.toStdString());
    Engine engine(engine_options);
    Session session(engine);
    MainWindow window(session);
    window.set_interactive(!screenshot);
    window.set_save_settings(!screenshot);
    if (!options.analyses) session.set_auto_analyses(false);
    if (options.size)
        window.resize(*options.size);
    else if (screenshot)
        window.resize(1500, 940);
    window.show();

    PromptExample example = default_gui_prompt();
    if (!options.prompts_file.isEmpty()) {
        try {
            window.prompt_panel().load_prompt_set(options.prompts_file);
            window.prompt_panel().choose_example(options.example);
            example = window.prompt_panel().example();
        } catch (const std::exception& e) {
            std::cerr << "headscope-gui: " << e.what() << std::endl;
            if (screenshot) return 1;
        }
    }
    if (!options.prompt.isEmpty()) {
        example = PromptExample{};
        example.task = "custom";
        example.prompt = options.prompt.toStdString();
    }
    if (options.prompts_file.isEmpty() || !options.prompt.isEmpty()) window.prompt_panel().set_example(example);

    // Apply --select/--query/--scale/--grid once the first prompt has run.
    auto applied = std::make_shared<bool>(false);
    QObject::connect(&session, &Session::promptRan, &window, [&session, &window, &options, applied] {
        if (*applied) return;
        *applied = true;
        if (options.select) session.select_head(options.select->layer, options.select->head);
        if (options.query >= 0) session.select_query(options.query);
        if (!options.scales.empty()) session.set_head_scales(options.scales);
        if (!options.grid.isEmpty()) window.grid_panel().choose(options.grid.toStdString());
        if (!options.result.isEmpty()) window.results_view().show_item(options.result.toStdString());
    });

    const QString model = options.model.isEmpty() ? default_gui_model() : options.model;
    if (model.isEmpty()) {
        if (screenshot) {
            std::cerr << "headscope-gui: no MODEL given and the built-in model (" << default_model_path()
                      << ") is missing" << std::endl;
            return 1;
        }
    } else {
        session.run_prompt(example);  // runs once the model has loaded
        window.open_model(model, options.tokenizer);
    }
    if (screenshot) new ScreenshotRunner(app, window, engine, options);
    return app.exec();
}

}  // namespace headscope::gui
