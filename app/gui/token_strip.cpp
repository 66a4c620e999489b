#include "token_strip.hpp"

#include <QHelpEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QToolTip>

#include <algorithm>

namespace headscope::gui {

namespace {
constexpr int kPadX = 5;
constexpr int kPadY = 3;
constexpr int kGap = 3;
constexpr int kMaxChipWidth = 220;
}  // namespace

QString chip_text(const std::string& token) {
    QString s = QString::fromStdString(token);
    if (s.isEmpty()) return QStringLiteral("∅");
    s.replace(' ', QChar(0x00B7)).replace('\n', QChar(0x21B5)).replace('\t', QChar(0x2192)).replace('\r', "\\r");
    return s;
}

TokenStrip::TokenStrip(QWidget* parent) : QWidget(parent) {
    setMouseTracking(true);
    QSizePolicy policy(QSizePolicy::Expanding, QSizePolicy::Preferred);
    policy.setHeightForWidth(true);
    setSizePolicy(policy);
}

void TokenStrip::set_tokens(const std::vector<std::string>& tokens, const std::vector<int32_t>& ids,
                            const std::vector<std::vector<TokenPrediction>>& predictions) {
    tokens_ = tokens;
    ids_ = ids;
    predictions_ = predictions;
    labels_.clear();
    for (const auto& t : tokens_) labels_.push_back(chip_text(t));
    scores_.clear();
    score_range_.reset();
    marked_.clear();
    if (selected_ >= count()) selected_ = -1;
    relayout();
}

void TokenStrip::clear() { set_tokens({}); }

void TokenStrip::set_selected(int index) {
    if (index == selected_) return;
    selected_ = index;
    update();
}

void TokenStrip::set_scores(const std::vector<double>& scores, Scale scale) {
    scores_ = scores;
    if (scores_.empty())
        score_range_.reset();
    else
        score_range_ = ValueRange::of(scores_, scale);
    update();
}

void TokenStrip::set_marked(const std::set<int>& marked, const QString& why) {
    marked_ = marked;
    marked_why_ = why;
    update();
}

int TokenStrip::layout_chips(int width, std::vector<QRect>* out) const {
    // Measured in bold: the selected chip is drawn bold and must not be elided.
    QFont bold = font();
    bold.setBold(true);
    const QFontMetrics fm(bold);
    const int h = fm.height() + 2 * kPadY;
    int x = kGap, y = kGap;
    if (out) out->clear();
    for (const QString& label : labels_) {
        const int w = std::min(kMaxChipWidth, fm.horizontalAdvance(label) + 2 * kPadX);
        if (x + w > width - kGap && x > kGap) {
            x = kGap;
            y += h + kGap;
        }
        if (out) out->push_back(QRect(x, y, w, h));
        x += w + kGap;
    }
    return labels_.empty() ? h + 2 * kGap : y + h + kGap;
}

void TokenStrip::relayout() {
    laid_out_width_ = width();
    layout_chips(std::max(50, width()), &rects_);
    updateGeometry();
    update();
}

int TokenStrip::heightForWidth(int width) const { return layout_chips(std::max(50, width), nullptr); }

QSize TokenStrip::sizeHint() const { return {600, heightForWidth(std::max(width(), 600))}; }

QSize TokenStrip::minimumSizeHint() const { return {100, fontMetrics().height() + 2 * kPadY + 2 * kGap}; }

QRect TokenStrip::chip_rect(int index) const {
    return index >= 0 && index < static_cast<int>(rects_.size()) ? rects_[static_cast<size_t>(index)] : QRect();
}

int TokenStrip::chip_at(QPoint pos) const {
    for (size_t i = 0; i < rects_.size(); ++i)
        if (rects_[i].contains(pos)) return static_cast<int>(i);
    return -1;
}

QString TokenStrip::tooltip_text(int i) const {
    if (i < 0 || i >= count()) return {};
    QString html = QString("<b>#%1</b>").arg(i);
    if (i < static_cast<int>(ids_.size())) html += QString(" &nbsp;id %1").arg(ids_[static_cast<size_t>(i)]);
    html += QString(" &nbsp;<code>%1</code>").arg(chip_text(tokens_[static_cast<size_t>(i)]).toHtmlEscaped());
    if (i < static_cast<int>(scores_.size())) html += QString("<br>score %1").arg(format_value(scores_[static_cast<size_t>(i)]));
    if (marked_.count(i) && !marked_why_.isEmpty()) html += "<br><i>" + marked_why_.toHtmlEscaped() + "</i>";
    if (i < static_cast<int>(predictions_.size()) && !predictions_[static_cast<size_t>(i)].empty()) {
        html += "<br>next token:<table>";
        for (const auto& p : predictions_[static_cast<size_t>(i)])
            html += QString("<tr><td><code>%1</code></td><td align=right>&nbsp;%2%</td></tr>")
                        .arg(chip_text(p.text).toHtmlEscaped())
                        .arg(p.probability * 100, 0, 'f', 1);
        html += "</table>";
    }
    return html;
}

void TokenStrip::paintEvent(QPaintEvent* event) {
    if (laid_out_width_ != width()) relayout();
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    const QPalette pal = palette();
    const QColor base = pal.color(QPalette::Base);
    const QColor text = pal.color(QPalette::Text);
    const QColor border = pal.color(QPalette::Mid);
    const QColor highlight = pal.color(QPalette::Highlight);
    const QColor mark(230, 126, 34);
    const QRect dirty = event->rect();
    for (size_t i = 0; i < rects_.size(); ++i) {
        const QRect r = rects_[i];
        if (!r.intersects(dirty)) continue;
        QColor fill = base;
        QColor ink = text;
        if (score_range_ && i < scores_.size()) {
            const QRgb c = score_range_->color(scores_[i]);
            fill = QColor(c);
            ink = text_color_on(c);
        }
        QPainterPath path;
        path.addRoundedRect(QRectF(r).adjusted(0.5, 0.5, -0.5, -0.5), 4, 4);
        p.fillPath(path, fill);
        const bool selected = static_cast<int>(i) == selected_;
        const bool marked = marked_.count(static_cast<int>(i)) != 0;
        p.setPen(QPen(selected ? highlight : marked ? mark : border, selected || marked ? 2.5 : 1));
        p.drawPath(path);
        QFont f = font();
        f.setBold(selected);
        p.setFont(f);
        p.setPen(ink);
        p.drawText(r.adjusted(kPadX, 0, -kPadX, 0), Qt::AlignVCenter | Qt::AlignHCenter,
                   QFontMetrics(f).elidedText(labels_[i], Qt::ElideRight, r.width() - 2 * kPadX + 2));
    }
    if (rects_.empty()) {
        p.setPen(pal.color(QPalette::PlaceholderText));
        p.drawText(rect(), Qt::AlignCenter, "Run a prompt to see its tokens");
    }
}

void TokenStrip::resizeEvent(QResizeEvent*) { relayout(); }

void TokenStrip::mousePressEvent(QMouseEvent* event) {
    if (event->button() != Qt::LeftButton) return;
    const int i = chip_at(event->position().toPoint());
    if (i >= 0) Q_EMIT tokenClicked(i);
}

bool TokenStrip::event(QEvent* e) {
    if (e->type() == QEvent::ToolTip) {
        auto* help = static_cast<QHelpEvent*>(e);
        const int i = chip_at(help->pos());
        if (i >= 0)
            QToolTip::showText(help->globalPos(), tooltip_text(i), this, chip_rect(i));
        else
            QToolTip::hideText();
        return true;
    }
    return QWidget::event(e);
}

}  // namespace headscope::gui
