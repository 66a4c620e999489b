#include "results_view.hpp"

#include <QHeaderView>
#include <QLabel>
#include <QSplitter>
#include <QTreeWidget>
#include <QVBoxLayout>

#include <algorithm>

#include "analysis_form.hpp"
#include "result_item_view.hpp"
#include "session.hpp"

namespace headscope::gui {

namespace {
constexpr int kKeyRole = Qt::UserRole + 1;
}

ResultsView::ResultsView(Session& session, QWidget* parent) : QWidget(parent), session_(session) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    auto* split = new QSplitter(Qt::Horizontal);
    tree_ = new QTreeWidget;
    tree_->setHeaderLabels({"Result", "Kind"});
    tree_->header()->setSectionResizeMode(0, QHeaderView::Stretch);
    tree_->header()->setSectionResizeMode(1, QHeaderView::Fixed);
    tree_->setMinimumWidth(220);
    tree_->setColumnWidth(1, 70);
    split->addWidget(tree_);
    auto* right = new QWidget;
    item_layout_ = new QVBoxLayout(right);
    item_layout_->setContentsMargins(4, 0, 0, 0);
    header_ = new QLabel;
    header_->setWordWrap(true);
    header_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    header_->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    item_layout_->addWidget(header_);
    split->addWidget(right);
    split->setStretchFactor(0, 0);
    split->setStretchFactor(1, 1);
    split->setSizes({300, 600});
    layout->addWidget(split);
    connect(tree_, &QTreeWidget::currentItemChanged, this, &ResultsView::show_selected);
    connect(&session_, &Session::resultsChanged, this, &ResultsView::rebuild);
    rebuild();
}

void ResultsView::rebuild() {
    const std::string keep = shown_key_;
    tree_->blockSignals(true);
    tree_->clear();
    QTreeWidgetItem* select = nullptr;
    for (const auto& [id, result] : session_.results()) {
        auto* top = new QTreeWidgetItem(tree_);
        top->setText(0, QString::fromStdString(result->analysis_title.empty() ? id : result->analysis_title));
        top->setText(1, result->error.empty() ? QString("v%1").arg(QString::fromStdString(result->analysis_version)) : "error");
        top->setData(0, kKeyRole, QString::fromStdString(id));
        top->setToolTip(0, QString::fromStdString(id));
        if (!result->error.empty()) top->setForeground(0, QColor(200, 40, 40));
        if (keep == id) select = top;
        for (const auto& item : result->items) {
            const ItemHeader& h = header_of(item);
            auto* child = new QTreeWidgetItem(top);
            child->setText(0, QString::fromStdString(h.title.empty() ? h.key : h.title));
            child->setText(1, kind_name(item));
            const std::string key = id + "/" + h.key;
            child->setData(0, kKeyRole, QString::fromStdString(key));
            child->setToolTip(0, QString::fromStdString(h.description));
            if (keep == key) select = child;
        }
    }
    for (const auto& id : session_.pending_analyses()) {
        if (session_.result(id)) {
            for (int i = 0; i < tree_->topLevelItemCount(); ++i)
                if (tree_->topLevelItem(i)->data(0, kKeyRole).toString().toStdString() == id)
                    tree_->topLevelItem(i)->setText(1, "running…");
            continue;
        }
        auto* top = new QTreeWidgetItem(tree_);
        top->setText(0, QString::fromStdString(id));
        top->setText(1, "running…");
        top->setForeground(0, palette().color(QPalette::PlaceholderText));
        top->setData(0, kKeyRole, QString::fromStdString(id));
    }
    tree_->blockSignals(false);
    if (!select && keep.empty()) {
        // Nothing chosen yet: the first analysis that worked.
        for (int i = 0; i < tree_->topLevelItemCount() && !select; ++i)
            if (tree_->topLevelItem(i)->text(1) != "error" && tree_->topLevelItem(i)->text(1) != "running…")
                select = tree_->topLevelItem(i);
    }
    if (select) {
        tree_->setCurrentItem(select);
        if (select->parent()) select->parent()->setExpanded(true);
    }
    // Re-render only when the shown result was recomputed (a form being filled in stays). A key
    // that is not there (yet) stays wanted.
    const std::string id = keep.substr(0, keep.find('/'));
    const auto it = session_.results().find(id);
    const std::shared_ptr<const Result> now = it == session_.results().end() ? nullptr : it->second;
    if (select && select->data(0, kKeyRole).toString().toStdString() == keep && now == shown_result_ && item_widget_) {
        // unchanged
    } else if (select) {
        shown_key_.clear();
        show_selected();
    } else {
        if (item_widget_) {
            delete item_widget_;
            item_widget_ = nullptr;
        }
        header_->clear();
        shown_key_ = keep;
    }
}

bool ResultsView::show_item(const std::string& key) {
    for (int i = 0; i < tree_->topLevelItemCount(); ++i) {
        QTreeWidgetItem* top = tree_->topLevelItem(i);
        if (top->data(0, kKeyRole).toString().toStdString() == key) {
            tree_->setCurrentItem(top);
            return true;
        }
        for (int j = 0; j < top->childCount(); ++j)
            if (top->child(j)->data(0, kKeyRole).toString().toStdString() == key) {
                top->setExpanded(true);
                tree_->setCurrentItem(top->child(j));
                return true;
            }
    }
    shown_key_ = key;  // shown when its result arrives
    return false;
}

void ResultsView::show_selected() {
    QTreeWidgetItem* current = tree_->currentItem();
    const std::string key = current ? current->data(0, kKeyRole).toString().toStdString() : std::string();
    if (key == shown_key_ && (item_widget_ || !header_->text().isEmpty())) return;
    shown_key_ = key;
    if (item_widget_) {
        delete item_widget_;
        item_widget_ = nullptr;
    }
    const size_t slash = key.find('/');
    const std::string id = key.substr(0, slash);
    const Result* result = session_.result(id);
    {
        const auto it = session_.results().find(id);
        shown_result_ = it == session_.results().end() ? nullptr : it->second;
    }
    if (!result) {
        header_->setText(current ? "Still running…" : "");
        return;
    }
    if (slash == std::string::npos) {
        QString text = QString("<b>%1</b> (%2, version %3)").arg(QString::fromStdString(result->analysis_title).toHtmlEscaped(),
                                                                  QString::fromStdString(result->analysis_id),
                                                                  QString::fromStdString(result->analysis_version));
        if (!result->error.empty())
            text += QString("<p style='color:#c82828'>Failed: %1</p>").arg(QString::fromStdString(result->error).toHtmlEscaped());
        if (!result->summary.empty()) {
            text += "<ul>";
            for (const auto& line : result->summary) text += "<li>" + QString::fromStdString(line).toHtmlEscaped() + "</li>";
            text += "</ul>";
        }
        if (!result->parameters.empty()) {
            QStringList params;
            for (const auto& [k, v] : result->parameters) params << QString::fromStdString(k + "=" + v).toHtmlEscaped();
            text += "<p><i>parameters:</i> " + params.join(", ") + "</p>";
        }
        header_->setText(text);
        item_widget_ = new AnalysisForm(session_, id);
        item_layout_->addWidget(item_widget_, 1, Qt::AlignTop);
        return;
    }
    const ResultItem* item = result->find(key.substr(slash + 1));
    if (!item) return;
    const ItemHeader& h = header_of(*item);
    header_->setText(QString("<b>%1</b> — %2<br><i>%3</i>")
                         .arg(QString::fromStdString(h.title).toHtmlEscaped(),
                              QString::fromStdString(result->analysis_title).toHtmlEscaped(),
                              QString::fromStdString(h.description).toHtmlEscaped()));
    item_widget_ = make_item_widget(*item, &session_);
    item_layout_->addWidget(item_widget_, 1);
}

}  // namespace headscope::gui
