// TokenStrip: the prompt's tokens as chips that wrap like text. Hovering a chip shows its
// position, id, text and the model's top next-token predictions there; clicking selects it as
// the query position. Chips can be tinted by per-token scores (e.g. attention received) and
// marked (e.g. attention sinks).
#pragma once

#include <QRect>
#include <QWidget>

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "color_map.hpp"
#include "engine_types.hpp"

namespace headscope::gui {

// How a token's text is shown on a chip: spaces as '·', newlines as '↵', tabs as '→'.
QString chip_text(const std::string& token);

class TokenStrip : public QWidget {
    Q_OBJECT
public:
    explicit TokenStrip(QWidget* parent = nullptr);

    void set_tokens(const std::vector<std::string>& tokens, const std::vector<int32_t>& ids = {},
                    const std::vector<std::vector<TokenPrediction>>& predictions = {});
    void clear();
    void set_selected(int index);  // -1: none
    int selected() const { return selected_; }
    // Tints chips by score (empty: no tint).
    void set_scores(const std::vector<double>& scores, Scale scale = Scale::sequential);
    void set_marked(const std::set<int>& marked, const QString& why = {});
    const std::set<int>& marked() const { return marked_; }
    int count() const { return static_cast<int>(tokens_.size()); }
    QRect chip_rect(int index) const;
    int chip_at(QPoint pos) const;
    QString tooltip_text(int index) const;

    bool hasHeightForWidth() const override { return true; }
    int heightForWidth(int width) const override;
    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

Q_SIGNALS:
    void tokenClicked(int index);

protected:
    void paintEvent(QPaintEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    bool event(QEvent* event) override;

private:
    int layout_chips(int width, std::vector<QRect>* out) const;
    void relayout();

    std::vector<std::string> tokens_;
    std::vector<QString> labels_;
    std::vector<int32_t> ids_;
    std::vector<std::vector<TokenPrediction>> predictions_;
    std::vector<double> scores_;
    std::optional<ValueRange> score_range_;
    std::set<int> marked_;
    QString marked_why_;
    std::vector<QRect> rects_;
    int selected_ = -1;
    int laid_out_width_ = -1;
};

}  // namespace headscope::gui
