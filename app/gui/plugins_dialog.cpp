#include "plugins_dialog.hpp"

#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QTreeWidget>
#include <QVBoxLayout>

#include "engine.hpp"
#include "session.hpp"

namespace headscope::gui {

PluginsDialog::PluginsDialog(Session& session, QWidget* parent) : QDialog(parent), session_(session) {
    setWindowTitle("Plugins and analyses");
    resize(820, 560);
    auto* layout = new QVBoxLayout(this);
    summary_ = new QLabel;
    summary_->setWordWrap(true);
    layout->addWidget(summary_);
    layout->addWidget(new QLabel("<b>Plugins</b>"));
    plugins_ = new QTreeWidget;
    plugins_->setHeaderLabels({"Plugin", "Version", "Status", "File"});
    plugins_->setRootIsDecorated(false);
    plugins_->setWordWrap(true);
    plugins_->header()->setSectionResizeMode(QHeaderView::ResizeToContents);
    plugins_->header()->setStretchLastSection(true);
    layout->addWidget(plugins_, 1);
    layout->addWidget(new QLabel("<b>Analyses</b> — each appears in the grid's choices and the Results view"));
    analyses_ = new QTreeWidget;
    analyses_->setHeaderLabels({"Analysis", "Title", "Version", "From", "Description"});
    analyses_->setRootIsDecorated(false);
    analyses_->header()->setSectionResizeMode(QHeaderView::ResizeToContents);
    analyses_->header()->setStretchLastSection(true);
    layout->addWidget(analyses_, 2);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close);
    auto* load = buttons->addButton("Load plugin…", QDialogButtonBox::ActionRole);
    layout->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(load, &QPushButton::clicked, this, [this] {
        const QString file = QFileDialog::getOpenFileName(this, "Load a headscope plugin", QString(),
                                                          "Plugins (*.so *.py);;All files (*)");
        if (!file.isEmpty()) session_.engine().load_plugin(file);
    });
    connect(&session_, &Session::pluginsChanged, this, &PluginsDialog::refresh);
    refresh();
}

void PluginsDialog::refresh() {
    plugins_->clear();
    analyses_->clear();
    const PluginsSnapshot* snap = session_.plugins();
    if (!snap) {
        summary_->setText("Loading plugins…");
        return;
    }
    int failed = 0;
    for (const auto& r : snap->reports) {
        auto* item = new QTreeWidgetItem(plugins_);
        item->setText(0, QString::fromStdString(r.name.empty() ? QFileInfo(QString::fromStdString(r.path)).fileName().toStdString() : r.name));
        item->setText(1, QString::fromStdString(r.version));
        if (r.loaded) {
            item->setText(2, QString("loaded: %1 analyses").arg(r.analyses.size()));
            item->setToolTip(2, QString::fromStdString([&] {
                std::string s;
                for (const auto& a : r.analyses) s += (s.empty() ? "" : ", ") + a;
                return s;
            }()));
        } else {
            ++failed;
            item->setText(2, "refused: " + QString::fromStdString(r.error));
            item->setForeground(2, QColor(200, 40, 40));
            item->setToolTip(2, QString::fromStdString(r.error));
        }
        item->setText(3, QString::fromStdString(r.path));
    }
    for (const auto& a : snap->analyses) {
        auto* item = new QTreeWidgetItem(analyses_);
        item->setText(0, QString::fromStdString(a.id));
        item->setText(1, QString::fromStdString(a.title));
        item->setText(2, QString::fromStdString(a.version));
        item->setText(3, QString::fromStdString(a.origin));
        item->setText(4, QString::fromStdString(a.description));
        item->setToolTip(4, QString::fromStdString(a.description));
    }
    QString text = QString("%1 analyses from %2 plugin(s).").arg(snap->analyses.size()).arg(snap->reports.size() - failed);
    if (failed > 0) text += QString(" <span style='color:#c82828'>%1 plugin(s) could not be loaded — see Status.</span>").arg(failed);
    QStringList shown;
    for (const auto& d : snap->search_dirs) shown << QString::fromStdString(d).toHtmlEscaped();
    text += "<br><small>Searched: " + shown.join(", ") + "</small>";
    summary_->setText(text);
}

QStringList PluginsDialog::shown_errors() const {
    QStringList out;
    for (int i = 0; i < plugins_->topLevelItemCount(); ++i) {
        const QTreeWidgetItem* item = plugins_->topLevelItem(i);
        if (item->text(2).startsWith("refused")) out << item->text(3) + ": " + item->text(2);
    }
    return out;
}

}  // namespace headscope::gui
