// MainWindow's menus, dialogs, recent files and persisted settings.
#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QKeySequence>
#include <QMenuBar>
#include <QMessageBox>
#include <QSettings>
#include <QStatusBar>
#include <QTabWidget>

#include "engine.hpp"
#include "exporters.hpp"
#include "main_window.hpp"
#include "plugins_dialog.hpp"
#include "prompt_panel.hpp"
#include "session.hpp"
#include "theme.hpp"

namespace headscope::gui {

namespace {
constexpr int kMaxRecent = 10;

QString view_title(const QString& name) {
    static const std::map<QString, QString> titles{
        {"window", "Whole window"}, {"tokens", "Token strip"},   {"grid", "Head grid"},
        {"pattern", "Attention pattern"}, {"head", "Head view"}, {"circuit", "Circuits"},
        {"sinks", "Sinks"},        {"interventions", "Interventions"}, {"results", "All results"},
        {"model", "Model facts"},  {"plugins", "Plugins dialog"}};
    auto it = titles.find(name);
    return it == titles.end() ? name : it->second;
}
}  // namespace

void MainWindow::build_menus() {
    QMenu* file = menuBar()->addMenu("&File");
    QAction* open = file->addAction("&Open Model…", this, &MainWindow::open_model_dialog);
    open->setShortcut(QKeySequence::Open);
    open->setToolTip("A GGUF file or a llama2.c checkpoint (.bin, with its tokenizer)");
    file->addAction("Open Hugging Face &Folder…", this, &MainWindow::open_folder_dialog);
    recent_menu_ = file->addMenu("Open &Recent");
    file->addAction("Open &Prompt Set…", this, &MainWindow::open_prompts_dialog);
    file->addSeparator();
    file->addAction("Export Results (&HDF5)…", this, &MainWindow::export_results_dialog);
    file->addAction("Export Re&port (HTML/PDF)…", this, &MainWindow::export_report_dialog);
    QMenu* images = file->addMenu("Export &Image of");
    for (const QString& name : view_names()) {
        QAction* a = images->addAction(view_title(name), this, [this, name] { export_image_dialog(name); });
        if (name == "pattern") a->setShortcut(QKeySequence("Ctrl+E"));
    }
    file->addSeparator();
    QAction* quit = file->addAction("&Quit", this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);

    QMenu* analysis = menuBar()->addMenu("&Analysis");
    QAction* rerun = analysis->addAction("&Run All Analyses", &session_, &Session::run_analyses);
    rerun->setShortcut(QKeySequence("F5"));
    QAction* cancel = analysis->addAction("&Cancel", &session_, &Session::cancel);
    cancel->setShortcut(QKeySequence(Qt::Key_Escape));
    QAction* auto_run = analysis->addAction("Run Analyses After Each &Prompt");
    auto_run->setCheckable(true);
    auto_run->setChecked(QSettings().value("analyses/auto", true).toBool());
    session_.set_auto_analyses(auto_run->isChecked());
    connect(auto_run, &QAction::toggled, this, [this](bool on) {
        session_.set_auto_analyses(on);
        QSettings().setValue("analyses/auto", on);
    });
    analysis->addSeparator();
    analysis->addAction("&Plugins…", this, [this] {
        plugins_dialog().show();
        plugins_dialog().raise();
    });

    QMenu* view = menuBar()->addMenu("&View");
    const QStringList tab_names{"Pattern", "Head view", "Circuits", "Sinks", "All results"};
    for (int i = 0; i < tab_names.size(); ++i) {
        QAction* a = view->addAction(tab_names[i], this, [this, i] { tabs_->setCurrentIndex(i); });
        a->setShortcut(QKeySequence(QString("Ctrl+%1").arg(i + 1)));
    }
    view->addSeparator();
    for (QDockWidget* dock : findChildren<QDockWidget*>()) view->addAction(dock->toggleViewAction());
    QMenu* theme = view->addMenu("&Theme");
    auto* group = new QActionGroup(this);
    const Theme current = parse_theme(QSettings().value("view/theme", "system").toString());
    for (Theme t : {Theme::system, Theme::light, Theme::dark}) {
        QAction* a = theme->addAction(t == Theme::system ? "Follow the &System" : t == Theme::light ? "&Light" : "&Dark");
        a->setCheckable(true);
        a->setChecked(t == current);
        group->addAction(a);
        connect(a, &QAction::triggered, this, [t] {
            apply_theme(t);
            QSettings().setValue("view/theme", theme_name(t));
        });
    }

    QMenu* help = menuBar()->addMenu("&Help");
    help->addAction("&How to Use", this, [this] {
        QMessageBox::information(
            this, "headscope",
            "<p><b>Pick a head</b> by clicking the grid (left); its attention pattern, head view and circuits follow.</p>"
            "<p><b>Pick a query token</b> by clicking a token chip, a pattern row or a token in the head view. "
            "Hover tokens for the model's next-token predictions.</p>"
            "<p><b>Pattern view</b>: wheel to zoom, drag to pan, double-click to fit.</p>"
            "<p><b>Interventions</b> (right): ablate or scale heads; the prompt re-runs at once and the table shows how "
            "the next-token probabilities move.</p>"
            "<p>Drop a model file/folder or a .jsonl prompt set on the window to open it.</p>");
    });
    help->addAction("&About headscope", this, [this] {
        QMessageBox::about(this, "About headscope",
                           QString("<b>headscope %1</b><br>A workbench for looking inside attention heads.").arg(HEADSCOPE_VERSION));
    });
}

void MainWindow::open_model_dialog() {
    const QString start = QSettings().value("dialogs/model_dir").toString();
    const QString path = QFileDialog::getOpenFileName(this, "Open a model", start,
                                                      "Models (*.gguf *.bin);;GGUF (*.gguf);;llama2.c checkpoints (*.bin);;All files (*)");
    if (path.isEmpty()) return;
    QSettings().setValue("dialogs/model_dir", QFileInfo(path).absolutePath());
    QString tokenizer;
    if (QFileInfo(path).suffix() == "bin" && find_llama2c_tokenizer(path).isEmpty()) {
        tokenizer = QFileDialog::getOpenFileName(this, "Its llama2.c tokenizer (tokenizer.bin)", QFileInfo(path).absolutePath(),
                                                 "llama2.c tokenizers (*.bin);;All files (*)");
        if (tokenizer.isEmpty()) return;
    }
    open_model(path, tokenizer);
}

void MainWindow::open_folder_dialog() {
    const QString dir = QFileDialog::getExistingDirectory(this, "Open a Hugging Face model folder",
                                                          QSettings().value("dialogs/model_dir").toString());
    if (dir.isEmpty()) return;
    QSettings().setValue("dialogs/model_dir", dir);
    open_model(dir);
}

void MainWindow::open_prompts_dialog() {
    const QString path = QFileDialog::getOpenFileName(this, "Open a prompt set", QString(), "Prompt sets (*.jsonl);;All files (*)");
    if (path.isEmpty()) return;
    try {
        prompt_->load_prompt_set(path);
    } catch (const std::exception& e) {
        report_error("prompts", QString::fromStdString(e.what()));
    }
}

void MainWindow::export_results_dialog() {
    if (session_.results().empty()) {
        report_error("export", "There are no results yet: run a prompt first.");
        return;
    }
    const QString path = QFileDialog::getSaveFileName(this, "Save results", "results.h5", "HDF5 (*.h5 *.hdf5)");
    if (path.isEmpty()) return;
    std::vector<Result> results;
    for (const auto& [id, r] : session_.results()) results.push_back(*r);
    session_.engine().export_results(path, std::move(results));
}

void MainWindow::export_report_dialog() {
    if (session_.results().empty()) {
        report_error("report", "There are no results yet: run a prompt first.");
        return;
    }
    const QString path = QFileDialog::getSaveFileName(this, "Save a report", "report.html", "HTML report (*.html);;PDF report (*.pdf)");
    if (path.isEmpty()) return;
    std::vector<Result> results;
    for (const auto& [id, r] : session_.results()) results.push_back(*r);
    const bool pdf = QFileInfo(path).suffix().compare("pdf", Qt::CaseInsensitive) == 0;
    session_.engine().export_report(pdf ? QString() : path, pdf ? path : QString(), std::move(results));
}

void MainWindow::export_image_dialog(const QString& view) {
    QWidget* widget = show_view(view);
    if (!widget) return;
    const QString path = QFileDialog::getSaveFileName(this, "Save an image of " + view_title(view), view + ".png",
                                                      "PNG image (*.png);;SVG drawing (*.svg)");
    if (path.isEmpty()) return;
    const QString error = save_widget_image(*widget, path);
    if (!error.isEmpty())
        report_error("image", error);
    else
        statusBar()->showMessage("Wrote " + path, 5000);
}

void MainWindow::add_recent(const QString& path, const QString& tokenizer) {
    if (!save_settings_) return;
    QSettings settings;
    QStringList recent = settings.value("recent/models").toStringList();
    const QString entry = tokenizer.isEmpty() ? path : path + "\t" + tokenizer;
    recent.removeIf([&](const QString& e) { return e.section('\t', 0, 0) == path; });
    recent.prepend(entry);
    while (recent.size() > kMaxRecent) recent.removeLast();
    settings.setValue("recent/models", recent);
    rebuild_recent_menu();
}

void MainWindow::rebuild_recent_menu() {
    recent_menu_->clear();
    const QStringList recent = QSettings().value("recent/models").toStringList();
    for (const QString& entry : recent) {
        const QString path = entry.section('\t', 0, 0);
        const QString tokenizer = entry.section('\t', 1, 1);
        QAction* a = recent_menu_->addAction(QFileInfo(path).fileName(), this, [this, path, tokenizer] { open_model(path, tokenizer); });
        a->setToolTip(path);
        a->setEnabled(QFileInfo::exists(path));
    }
    if (recent.isEmpty()) recent_menu_->addAction("(none)")->setEnabled(false);
    recent_menu_->addSeparator();
    recent_menu_->addAction("Clear", this, [this] {
        QSettings().remove("recent/models");
        rebuild_recent_menu();
    });
}

void MainWindow::restore_settings() {
    QSettings settings;
    restoreGeometry(settings.value("window/geometry").toByteArray());
    restoreState(settings.value("window/state").toByteArray());
    tabs_->setCurrentIndex(settings.value("window/tab", 0).toInt());
    rebuild_recent_menu();
}

void MainWindow::save_settings() {
    QSettings settings;
    settings.setValue("window/geometry", saveGeometry());
    settings.setValue("window/state", saveState());
    settings.setValue("window/tab", tabs_->currentIndex());
}

}  // namespace headscope::gui
