// The headscope-gui application: command-line options, the default model and prompt, and the
// --screenshot mode that renders one state of one view to an image and exits.
//
//   headscope-gui [MODEL] [--tokenizer PATH] [--prompt TEXT | --prompts FILE.jsonl [--example N]]
//                 [--select L1H4] [--query N] [--grid ANALYSIS/ITEM] [--result ANALYSIS/ITEM] [--scale L1H4=F]...
//                 [--view NAME|all] [--screenshot OUT.png|OUT.svg|DIR/{view}.png] [--size WxH] [--theme light|dark]
//                 [--plugin-dir DIR]... [--no-analyses] [--report OUT.html|OUT.pdf] [--timeout SECONDS]
//
// Without a display (and without --screenshot) it writes the report of the built-in analyses
// on the model instead (headscope-report.html in the current folder) and says where.
#pragma once

#include "headscope/sdk/head_ref.hpp"

#include <QSize>
#include <QString>
#include <QStringList>

#include <optional>
#include <utility>
#include <vector>

#include "engine_types.hpp"

class QApplication;

namespace headscope::gui {

struct GuiOptions {
    QString model;
    QString tokenizer;
    QString prompt;
    QString prompts_file;
    int example = 0;
    std::optional<HeadRef> select;
    int query = -1;
    QString grid;
    QString result;
    std::vector<HeadScale> scales;
    QString view = "window";
    QString screenshot;
    std::optional<QSize> size;
    QString theme;
    QStringList plugin_dirs;
    bool analyses = true;
    QString report;  // headless: write the analyses' report here and exit
    int timeout_seconds = 600;
};

// Parses argv (args[0] is the program). On a bad option returns nullopt with *error set; with
// --help/--version *error holds the text to print and *exit_code is 0.
std::optional<GuiOptions> parse_gui_options(const QStringList& args, QString* error, int* exit_code);

// data/models/tiny-world when it exists; otherwise the shared stories260K checkpoint (a
// development fallback) when that exists; otherwise empty.
QString default_gui_model();
// The tutorial's indirect-object example: "When Mary and John went to the store, John gave a
// drink to" -> " Mary" (alternative " John").
PromptExample default_gui_prompt();

// Drops the offscreen platform's noise ("does not support propagateSizeHints") from the log.
void install_quiet_message_handler();

// True when a window can be shown (a display, or a platform other than offscreen was chosen).
bool display_available();

// Builds the window and runs the event loop; returns the exit code.
int run_gui(QApplication& app, const GuiOptions& options);

}  // namespace headscope::gui
