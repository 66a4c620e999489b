#include "head_view.hpp"

#include <QHBoxLayout>
#include <QLabel>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QScrollArea>
#include <QScrollBar>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

#include "session.hpp"
#include "token_strip.hpp"

namespace headscope::gui {

namespace {
constexpr int kTop = 8;
constexpr int kGapWidth = 260;  // room for the lines between the columns
constexpr double kMinWeight = 0.002;
}  // namespace

QColor head_color(int head) {
    // Tableau 10
    static const QRgb colors[] = {0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd,
                                  0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf};
    return QColor(colors[static_cast<size_t>(head) % 10]);
}

HeadLines::HeadLines(QWidget* parent) : QWidget(parent) { setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed); }

void HeadLines::set_data(const std::vector<std::string>& tokens, std::shared_ptr<const QueryRows> rows,
                         const std::set<int>& heads) {
    labels_.clear();
    for (const auto& t : tokens) labels_.push_back(chip_text(t));
    rows_ = std::move(rows);
    if (rows_ && rows_->size != static_cast<int>(labels_.size())) rows_.reset();
    heads_ = heads;
    setMinimumHeight(sizeHint().height());
    updateGeometry();
    update();
}

int HeadLines::row_height() const { return fontMetrics().height() + 4; }
int HeadLines::row_y(int index) const { return kTop + index * row_height(); }

int HeadLines::column_width() const {
    const QFontMetrics fm = fontMetrics();
    int w = 40;
    for (const QString& s : labels_) w = std::max(w, fm.horizontalAdvance(s) + 12);
    return std::min(w, 180);
}

QSize HeadLines::sizeHint() const {
    return {2 * column_width() + kGapWidth, kTop * 2 + static_cast<int>(labels_.size()) * row_height()};
}

void HeadLines::paintEvent(QPaintEvent* event) {
    QPainter p(this);
    p.fillRect(event->rect(), palette().color(QPalette::Base));
    if (labels_.empty()) {
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(rect(), Qt::AlignCenter, "Run a prompt to see where heads attend");
        return;
    }
    const QFontMetrics fm = fontMetrics();
    const int rh = row_height();
    const int cw = column_width();
    const int gap = std::max(kGapWidth, width() - 2 * cw - 20);
    const int left_x = 10;
    const int right_x = left_x + cw + gap;
    const int n = static_cast<int>(labels_.size());
    const int query = rows_ ? rows_->query : -1;
    const QRect dirty = event->rect();
    const int first = std::max(0, (dirty.top() - kTop) / rh - 1);
    const int last = std::min(n - 1, (dirty.bottom() - kTop) / rh + 1);

    // Key side: tinted by the strongest shown head's weight.
    auto weight = [&](int head, int key) -> double {
        return (*rows_).values[static_cast<size_t>(head) * static_cast<size_t>(rows_->size) + static_cast<size_t>(key)];
    };
    for (int k = first; k <= last; ++k) {
        const QRect r(right_x, row_y(k), cw, rh);
        if (rows_) {
            double best = 0;
            int best_head = -1;
            for (int h : heads_)
                if (h < rows_->heads && weight(h, k) > best) {
                    best = weight(h, k);
                    best_head = h;
                }
            if (best_head >= 0) {
                QColor c = head_color(best_head);
                c.setAlphaF(std::min(1.0, best) * 0.6);
                p.fillRect(r.adjusted(0, 1, 0, -1), c);
            }
        }
        p.setPen(palette().color(QPalette::Text));
        p.drawText(r.adjusted(4, 0, -2, 0), Qt::AlignLeft | Qt::AlignVCenter, fm.elidedText(labels_[static_cast<size_t>(k)], Qt::ElideRight, cw - 6));
    }
    // Query side.
    for (int q = first; q <= last; ++q) {
        const QRect r(left_x, row_y(q), cw, rh);
        QFont f = font();
        if (q == query) {
            p.fillRect(r.adjusted(0, 1, 0, -1), palette().color(QPalette::Highlight));
            f.setBold(true);
            p.setPen(palette().color(QPalette::HighlightedText));
        } else {
            p.setPen(q > query && query >= 0 ? palette().color(QPalette::PlaceholderText) : palette().color(QPalette::Text));
        }
        p.setFont(f);
        p.drawText(r.adjusted(2, 0, -4, 0), Qt::AlignRight | Qt::AlignVCenter, QFontMetrics(f).elidedText(labels_[static_cast<size_t>(q)], Qt::ElideLeft, cw - 6));
    }
    p.setFont(font());
    if (!rows_ || query < 0) return;
    // Lines: from the query's row to every key with visible weight, one colour per head.
    p.setRenderHint(QPainter::Antialiasing);
    const QPointF from(left_x + cw + 2, row_y(query) + rh / 2.0);
    for (int h : heads_) {
        if (h >= rows_->heads) continue;
        QColor c = head_color(h);
        for (int k = 0; k <= std::min(query, n - 1); ++k) {
            const double a = weight(h, k);
            if (a < kMinWeight) continue;
            const QPointF to(right_x - 2, row_y(k) + rh / 2.0);
            const QRectF box = QRectF(from, to).normalized().adjusted(-4, -4, 4, 4);
            if (!box.intersects(dirty)) continue;
            c.setAlphaF(std::clamp(0.15 + 0.85 * a, 0.0, 1.0));
            p.setPen(QPen(c, 0.5 + 5.0 * a, Qt::SolidLine, Qt::RoundCap));
            QPainterPath path(from);
            const double mid = (from.x() + to.x()) / 2;
            path.cubicTo(QPointF(mid, from.y()), QPointF(mid, to.y()), to);
            p.drawPath(path);
        }
    }
}

void HeadLines::mousePressEvent(QMouseEvent* event) {
    const int cw = column_width();
    const int i = (static_cast<int>(event->position().y()) - kTop) / row_height();
    if (event->position().x() <= 10 + cw && i >= 0 && i < static_cast<int>(labels_.size())) Q_EMIT tokenClicked(i);
}

HeadView::HeadView(Session& session, QWidget* parent) : QWidget(parent), session_(session) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    title_ = new QLabel("Head view");
    QFont f = title_->font();
    f.setBold(true);
    title_->setFont(f);
    layout->addWidget(title_);
    buttons_layout_ = new QHBoxLayout;
    buttons_layout_->setSpacing(2);
    layout->addLayout(buttons_layout_);
    scroll_ = new QScrollArea;
    scroll_->setWidgetResizable(true);
    lines_ = new HeadLines;
    scroll_->setWidget(lines_);
    layout->addWidget(scroll_, 1);
    auto* hint = new QLabel("Lines run from the query token (left, highlighted) to the keys it attends to; "
                            "width and opacity show the attention weight. Click a token on the left to move the query.");
    hint->setWordWrap(true);
    hint->setForegroundRole(QPalette::PlaceholderText);
    layout->addWidget(hint);

    connect(lines_, &HeadLines::tokenClicked, &session_, &Session::select_query);
    connect(&session_, &Session::queryRowsChanged, this, &HeadView::refresh);
    connect(&session_, &Session::promptRan, this, &HeadView::refresh);
    connect(&session_, &Session::modelLoaded, this, [this] {
        follow_selection_ = true;
        rebuild_buttons();
        refresh();
    });
    connect(&session_, &Session::selectionChanged, this, [this] {
        if (follow_selection_) heads_ = {session_.head()};
        rebuild_buttons();
        refresh();
    });
}

void HeadView::set_shown_heads(const std::set<int>& heads) {
    heads_ = heads;
    follow_selection_ = false;
    rebuild_buttons();
    refresh();
}

void HeadView::rebuild_buttons() {
    const ModelSummary* m = session_.model();
    const int n = m ? m->n_heads : 0;
    if (n != built_for_heads_) {
        for (auto* b : buttons_) delete b;
        buttons_.clear();
        while (QLayoutItem* item = buttons_layout_->takeAt(0)) delete item;
        for (int h = 0; h < n; ++h) {
            auto* b = new QToolButton;
            b->setText(QString("H%1").arg(h));
            b->setCheckable(true);
            b->setToolTip(QString("Show head %1 of the selected layer").arg(h));
            connect(b, &QToolButton::toggled, this, [this, h](bool on) {
                std::set<int> heads = heads_;
                if (on)
                    heads.insert(h);
                else
                    heads.erase(h);
                if (heads != heads_) set_shown_heads(heads);
            });
            buttons_layout_->addWidget(b);
            buttons_.push_back(b);
        }
        auto* all = new QToolButton;
        all->setText("All");
        connect(all, &QToolButton::clicked, this, [this, n] {
            std::set<int> heads;
            for (int h = 0; h < n; ++h) heads.insert(h);
            set_shown_heads(heads);
        });
        auto* selected = new QToolButton;
        selected->setText("Selected");
        selected->setToolTip("Follow the selected head only");
        connect(selected, &QToolButton::clicked, this, [this] {
            follow_selection_ = true;
            heads_ = {session_.head()};
            rebuild_buttons();
            refresh();
        });
        buttons_layout_->addSpacing(8);
        buttons_layout_->addWidget(all);
        buttons_layout_->addWidget(selected);
        buttons_layout_->addStretch(1);
        buttons_.push_back(all);
        buttons_.push_back(selected);
        built_for_heads_ = n;
    }
    for (int h = 0; h < n; ++h) {
        QToolButton* b = buttons_[static_cast<size_t>(h)];
        const bool on = heads_.count(h) != 0;
        b->blockSignals(true);
        b->setChecked(on);
        b->blockSignals(false);
        const QColor c = head_color(h);
        b->setStyleSheet(on ? QString("QToolButton { background: %1; color: white; border-radius: 3px; padding: 2px 5px; }").arg(c.name())
                            : QString("QToolButton { border: 2px solid %1; border-radius: 3px; padding: 1px 4px; }").arg(c.name()));
    }
}

void HeadView::refresh() {
    const PromptRun* run = session_.run();
    if (!run) {
        lines_->set_data({}, nullptr, {});
        title_->setText("Head view");
        return;
    }
    if (follow_selection_) heads_ = {session_.head()};
    auto rows = session_.query_rows();
    lines_->set_data(run->tokens, rows, heads_);
    QStringList names;
    for (int h : heads_) names << QString("H%1").arg(h);
    title_->setText(QString("Head view — layer %1, %2, query %3%4")
                        .arg(session_.layer())
                        .arg(names.join(", "))
                        .arg(session_.query())
                        .arg(rows ? QString() : QString("  (loading…)")));
    scroll_to_query();
}

void HeadView::scroll_to_query() {
    // Once the new height is laid out (and only while shown: a hidden tab has no geometry yet).
    if (!isVisible()) return;
    QTimer::singleShot(0, this, [this] {
        const int y = lines_->row_y(session_.query()) + lines_->row_height() / 2;
        scroll_->ensureVisible(0, y, 0, scroll_->viewport()->height() / 3);
    });
}

void HeadView::showEvent(QShowEvent* event) {
    QWidget::showEvent(event);
    scroll_to_query();
}

}  // namespace headscope::gui
