// The workbench window: prompt editor and token strip on top, the layer x head grid beside the
// per-head views (pattern, head view, circuits, sinks, all results), the model's facts and the
// intervention panel in docks; menus for opening models and prompt sets, exporting results,
// reports and view images, plugins and themes. Layout, recent files and settings persist.
#pragma once

#include <QMainWindow>
#include <QStringList>

#include <map>
#include <memory>

class QLabel;
class QProgressBar;
class QPushButton;
class QScrollArea;
class QTabWidget;
class QMenu;

namespace headscope::gui {

class CircuitView;
class Engine;
class HeadGridPanel;
class HeadView;
class InterventionPanel;
class ModelPanel;
class PatternView;
class PluginsDialog;
class PromptPanel;
class ResultsView;
class Session;
class SinksView;
class TokenStrip;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    MainWindow(Session& session, QWidget* parent = nullptr);
    ~MainWindow() override;

    // Names accepted by --view and the export menu: window, tokens, grid, pattern, head,
    // circuit, sinks, interventions, results, model, plugins.
    static QStringList view_names();
    // The widget showing a view (its tab made current first); nullptr for an unknown name.
    QWidget* show_view(const QString& name);

    void open_model(const QString& path, const QString& tokenizer_path = {});
    // false: show errors on stderr instead of message boxes (tests, --screenshot).
    void set_interactive(bool on) { interactive_ = on; }
    void set_save_settings(bool on) { save_settings_ = on; }

    Session& session() { return session_; }
    PromptPanel& prompt_panel() { return *prompt_; }
    TokenStrip& token_strip() { return *strip_; }
    HeadGridPanel& grid_panel() { return *grid_; }
    PatternView& pattern_view() { return *pattern_; }
    HeadView& head_view() { return *head_view_; }
    CircuitView& circuit_view() { return *circuit_; }
    SinksView& sinks_view() { return *sinks_; }
    ResultsView& results_view() { return *results_; }
    InterventionPanel& intervention_panel() { return *interventions_; }
    PluginsDialog& plugins_dialog();
    QTabWidget& tabs() { return *tabs_; }

protected:
    void closeEvent(QCloseEvent* event) override;
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    void build_layout();
    void build_menus();
    void connect_session();
    void restore_settings();
    void save_settings();
    void add_recent(const QString& path, const QString& tokenizer);
    void rebuild_recent_menu();
    void report_error(const QString& what, const QString& message);
    void update_title();
    void update_token_strip();

    // File menu actions
    void open_model_dialog();
    void open_folder_dialog();
    void open_prompts_dialog();
    void export_results_dialog();
    void export_report_dialog();
    void export_image_dialog(const QString& view);

    Session& session_;
    PromptPanel* prompt_;
    QScrollArea* strip_scroll_;
    TokenStrip* strip_;
    HeadGridPanel* grid_;
    QTabWidget* tabs_;
    PatternView* pattern_;
    HeadView* head_view_;
    CircuitView* circuit_;
    SinksView* sinks_;
    ResultsView* results_;
    ModelPanel* model_panel_;
    InterventionPanel* interventions_;
    PluginsDialog* plugins_ = nullptr;
    QMenu* recent_menu_ = nullptr;
    QLabel* status_;
    QProgressBar* progress_;
    QPushButton* cancel_;
    bool interactive_ = true;
    bool save_settings_ = true;
    QString pending_tokenizer_;
    QString pending_path_;
};

// Where a llama2.c checkpoint's tokenizer is when none is named: tokenizer.bin or tok*.bin
// beside it; empty when there is none (the user is then asked).
QString find_llama2c_tokenizer(const QString& checkpoint);

}  // namespace headscope::gui
