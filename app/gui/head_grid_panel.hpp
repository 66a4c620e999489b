// The layer x head grid with its controls: which HeadGrid to show (every HeadGrid of every
// result, built-in or from a plugin), the colour scale (the item's own, sequential or
// diverging), the legend, and a readout of the hovered head.
#pragma once

#include <QWidget>

#include <string>

class QComboBox;
class QLabel;

namespace headscope::gui {

class ColorLegend;
class HeadGridView;
class Session;

class HeadGridPanel : public QWidget {
    Q_OBJECT
public:
    explicit HeadGridPanel(Session& session, QWidget* parent = nullptr);

    HeadGridView& view() { return *view_; }
    QComboBox& choice_box() { return *choices_; }
    // "analysis_id/item_key" of the shown grid ("" when none).
    std::string current_choice() const;
    bool choose(const std::string& key);  // false when no such grid exists (yet)

private:
    void refresh_choices();
    void show_current();
    void sync_interventions();

    Session& session_;
    QComboBox* choices_;
    QComboBox* scale_;
    HeadGridView* view_;
    ColorLegend* legend_;
    QLabel* readout_;
    QLabel* description_;
    std::string wanted_;  // the user's choice, kept while its result is being recomputed
};

}  // namespace headscope::gui
