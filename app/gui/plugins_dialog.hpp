// Plugins dialog: every plugin the engine tried to load (the built-ins included) with its
// version, the analyses it registered, or why it was refused; and every registered analysis with
// its version and origin. "Load plugin…" loads another library.
#pragma once

#include <QDialog>

class QLabel;
class QTreeWidget;

namespace headscope::gui {

class Session;

class PluginsDialog : public QDialog {
    Q_OBJECT
public:
    explicit PluginsDialog(Session& session, QWidget* parent = nullptr);
    QTreeWidget& plugins() { return *plugins_; }
    QTreeWidget& analyses() { return *analyses_; }
    // Every load error shown, one line each ("file: error").
    QStringList shown_errors() const;

private:
    void refresh();

    Session& session_;
    QTreeWidget* plugins_;
    QTreeWidget* analyses_;
    QLabel* summary_;
};

}  // namespace headscope::gui
