#include "main_window.hpp"

#include <QCloseEvent>
#include <QDir>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileInfo>
#include <QLabel>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QSplitter>
#include <QStatusBar>
#include <QTabWidget>
#include <QVBoxLayout>

#include <iostream>

#include "circuit_view.hpp"
#include "engine.hpp"
#include "head_grid_panel.hpp"
#include "head_view.hpp"
#include "intervention_panel.hpp"
#include "model_panel.hpp"
#include "pattern_view.hpp"
#include "plugins_dialog.hpp"
#include "prompt_panel.hpp"
#include "results_view.hpp"
#include "session.hpp"
#include "sinks_view.hpp"
#include "token_strip.hpp"

namespace headscope::gui {

QString find_llama2c_tokenizer(const QString& checkpoint) {
    const QFileInfo info(checkpoint);
    const QDir dir = info.dir();
    if (dir.exists("tokenizer.bin")) return dir.filePath("tokenizer.bin");
    const QStringList toks = dir.entryList({"tok*.bin"}, QDir::Files, QDir::Name);
    for (const QString& t : toks)
        if (dir.filePath(t) != info.absoluteFilePath()) return dir.filePath(t);
    return {};
}

MainWindow::MainWindow(Session& session, QWidget* parent) : QMainWindow(parent), session_(session) {
    setObjectName("headscope-main-window");
    setAcceptDrops(true);
    build_layout();
    build_menus();
    connect_session();
    restore_settings();
    update_title();
}

MainWindow::~MainWindow() = default;

void MainWindow::build_layout() {
    auto* central = new QWidget;
    auto* layout = new QVBoxLayout(central);
    layout->setContentsMargins(4, 4, 4, 0);
    layout->setSpacing(2);
    prompt_ = new PromptPanel;
    layout->addWidget(prompt_);

    strip_scroll_ = new QScrollArea;
    strip_scroll_->setWidgetResizable(true);
    strip_scroll_->setFrameShape(QFrame::StyledPanel);
    strip_ = new TokenStrip;
    strip_->setObjectName("tokens");
    strip_scroll_->setWidget(strip_);
    strip_scroll_->setMaximumHeight(strip_->fontMetrics().height() * 6 + 30);
    strip_scroll_->setMinimumHeight(strip_->fontMetrics().height() * 2 + 16);

    auto* split = new QSplitter(Qt::Horizontal);
    grid_ = new HeadGridPanel(session_);
    grid_->setObjectName("grid");
    split->addWidget(grid_);
    tabs_ = new QTabWidget;
    pattern_ = new PatternView(session_);
    pattern_->setObjectName("pattern");
    head_view_ = new HeadView(session_);
    head_view_->setObjectName("head");
    circuit_ = new CircuitView(session_);
    circuit_->setObjectName("circuit");
    sinks_ = new SinksView(session_);
    sinks_->setObjectName("sinks");
    results_ = new ResultsView(session_);
    results_->setObjectName("results");
    tabs_->addTab(pattern_, "Pattern");
    tabs_->addTab(head_view_, "Head view");
    tabs_->addTab(circuit_, "Circuits");
    tabs_->addTab(sinks_, "Sinks");
    tabs_->addTab(results_, "All results");
    split->addWidget(tabs_);
    split->setStretchFactor(0, 2);
    split->setStretchFactor(1, 3);
    split->setSizes({420, 640});

    auto* vertical = new QSplitter(Qt::Vertical);
    vertical->addWidget(strip_scroll_);
    vertical->addWidget(split);
    vertical->setStretchFactor(0, 0);
    vertical->setStretchFactor(1, 1);
    layout->addWidget(vertical, 1);
    setCentralWidget(central);

    model_panel_ = new ModelPanel(session_);
    model_panel_->setObjectName("model");
    auto* model_dock = new QDockWidget("Model");
    model_dock->setObjectName("model-dock");
    model_dock->setWidget(model_panel_);
    addDockWidget(Qt::LeftDockWidgetArea, model_dock);

    interventions_ = new InterventionPanel(session_);
    interventions_->setObjectName("interventions");
    auto* int_dock = new QDockWidget("Interventions");
    int_dock->setObjectName("interventions-dock");
    int_dock->setWidget(interventions_);
    addDockWidget(Qt::RightDockWidgetArea, int_dock);

    status_ = new QLabel("Ready");
    progress_ = new QProgressBar;
    progress_->setMaximumWidth(220);
    progress_->setRange(0, 1000);
    progress_->setVisible(false);
    cancel_ = new QPushButton("Cancel");
    cancel_->setToolTip("Stop the running work (Esc)");
    cancel_->setVisible(false);
    statusBar()->addWidget(status_, 1);
    statusBar()->addPermanentWidget(progress_);
    statusBar()->addPermanentWidget(cancel_);
    connect(cancel_, &QPushButton::clicked, &session_, &Session::cancel);
    resize(1500, 940);
}

void MainWindow::connect_session() {
    connect(prompt_, &PromptPanel::runRequested, &session_, &Session::run_prompt);
    connect(prompt_, &PromptPanel::failed, this, &MainWindow::report_error);
    connect(strip_, &TokenStrip::tokenClicked, &session_, &Session::select_query);
    connect(&session_, &Session::modelLoaded, this, [this] {
        update_title();
        if (const ModelSummary* m = session_.model()) {
            add_recent(QString::fromStdString(m->path), pending_path_ == QString::fromStdString(m->path) ? pending_tokenizer_ : QString());
            status_->setText(QString("Loaded %1").arg(QFileInfo(QString::fromStdString(m->path)).fileName()));
        }
    });
    connect(&session_, &Session::promptRan, this, [this] {
        update_token_strip();
        update_title();
    });
    connect(&session_, &Session::selectionChanged, this, [this] {
        strip_->set_selected(session_.query());
        const QRect chip = strip_->chip_rect(session_.query());
        if (chip.isValid()) strip_scroll_->ensureVisible(chip.center().x(), chip.center().y(), 10, 10);
    });
    connect(&session_, &Session::resultsChanged, this, [this](const QString& id) {
        if (id.isEmpty() || id == "attention_sinks") update_token_strip();
    });
    connect(&session_, &Session::busyChanged, this, [this](bool busy, const QString& what) {
        progress_->setVisible(busy);
        cancel_->setVisible(busy);
        if (busy) {
            progress_->setRange(0, 0);  // indeterminate until a fraction arrives
            status_->setText(what + "…");
        } else {
            status_->setText("Ready");
        }
    });
    connect(&session_, &Session::progress, this, [this](const QString& message, double fraction) {
        if (fraction >= 0) {
            progress_->setRange(0, 1000);
            progress_->setValue(static_cast<int>(fraction * 1000));
        }
        if (!message.isEmpty()) status_->setText(message);
    });
    connect(&session_, &Session::failed, this, &MainWindow::report_error);
    connect(&session_.engine(), &Engine::exported, this,
            [this](const QString& path) { status_->setText(QString("Wrote %1").arg(path)); });
}

void MainWindow::update_token_strip() {
    const PromptRun* run = session_.run();
    if (!run) {
        strip_->clear();
        return;
    }
    if (strip_->count() != static_cast<int>(run->tokens.size()) || strip_->property("generation").toULongLong() != run->generation) {
        strip_->set_tokens(run->tokens, run->ids, run->predictions);
        strip_->setProperty("generation", QVariant::fromValue<qulonglong>(run->generation));
    }
    strip_->set_marked(sink_positions(session_), "attention sink (see the Sinks tab)");
    strip_->set_selected(session_.query());
}

void MainWindow::update_title() {
    QString title = "headscope";
    if (const ModelSummary* m = session_.model()) title += " — " + QFileInfo(QString::fromStdString(m->path)).fileName();
    if (const PromptRun* run = session_.run()) title += QString(" (%1 tokens)").arg(run->ids.size());
    setWindowTitle(title);
}

QStringList MainWindow::view_names() {
    return {"window", "tokens", "grid", "pattern", "head", "circuit", "sinks", "interventions", "results", "model", "plugins"};
}

QWidget* MainWindow::show_view(const QString& name) {
    if (name == "window") return this;
    if (name == "tokens") return strip_scroll_;
    if (name == "grid") return grid_;
    if (name == "model") return model_panel_;
    if (name == "interventions") return interventions_;
    if (name == "plugins") {
        PluginsDialog& dialog = plugins_dialog();
        dialog.show();
        return &dialog;
    }
    for (QWidget* w : {static_cast<QWidget*>(pattern_), static_cast<QWidget*>(head_view_), static_cast<QWidget*>(circuit_),
                       static_cast<QWidget*>(sinks_), static_cast<QWidget*>(results_)})
        if (w->objectName() == name) {
            tabs_->setCurrentWidget(w);
            return w;
        }
    return nullptr;
}

PluginsDialog& MainWindow::plugins_dialog() {
    if (!plugins_) plugins_ = new PluginsDialog(session_, this);
    return *plugins_;
}

void MainWindow::open_model(const QString& path, const QString& tokenizer_path) {
    pending_path_ = QFileInfo(path).absoluteFilePath();
    pending_tokenizer_ = tokenizer_path;
    status_->setText(QString("Loading %1…").arg(QFileInfo(path).fileName()));
    session_.open_model(path, tokenizer_path);
}

void MainWindow::report_error(const QString& what, const QString& message) {
    const bool serious = what == "load" || what == "prompt" || what == "export" || what == "report" ||
                         what == "prompts" || what == "plugin" || what == "image";
    status_->setText(QString("%1 failed: %2").arg(what, message.left(200)));
    if (!interactive_) {
        std::cerr << "headscope-gui: " << what.toStdString() << ": " << message.toStdString() << "\n";
        return;
    }
    if (!serious) return;  // analysis errors show in the Results view
    auto* box = new QMessageBox(QMessageBox::Warning, "headscope", message, QMessageBox::Ok, this);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->setWindowModality(Qt::WindowModal);
    box->open();  // not exec(): the window keeps running
}

void MainWindow::closeEvent(QCloseEvent* event) {
    if (save_settings_) save_settings();
    event->accept();
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
    if (event->mimeData()->hasUrls()) event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
    QString model, tokenizer;
    for (const QUrl& url : event->mimeData()->urls()) {
        if (!url.isLocalFile()) continue;
        const QString path = url.toLocalFile();
        const QFileInfo info(path);
        if (info.suffix().compare("jsonl", Qt::CaseInsensitive) == 0) {
            try {
                prompt_->load_prompt_set(path);
                prompt_->choose_example(0);
                session_.run_prompt(prompt_->example());
            } catch (const std::exception& e) {
                report_error("prompts", QString::fromStdString(e.what()));
            }
        } else if (info.suffix() == "bin" && info.fileName().startsWith("tok")) {
            tokenizer = path;
        } else {
            model = path;
        }
    }
    if (!model.isEmpty()) open_model(model, tokenizer);  // the loader finds tok<vocab>.bin itself
    event->acceptProposedAction();
}

}  // namespace headscope::gui
