// Intervention panel: per-head ablate toggles and scale sliders (0-2). Every change re-runs the
// prompt at once (head z scaled on the engine thread) and shows how the next-token
// probabilities and the chosen metric moved against the unedited baseline. Reset restores
// every head.
#pragma once

#include <QWidget>

#include <cstdint>
#include <optional>

class QCheckBox;
class QComboBox;
class QLabel;
class QPushButton;
class QSlider;
class QTableWidget;

namespace headscope::gui {

class Session;

class InterventionPanel : public QWidget {
    Q_OBJECT
public:
    explicit InterventionPanel(Session& session, QWidget* parent = nullptr);

    // The probability shown for a token in the "now" column (nullopt when not listed).
    std::optional<double> shown_probability(int32_t token_id) const;
    std::optional<double> shown_baseline(int32_t token_id) const;
    QString metric_text() const;
    QCheckBox& ablate_checkbox(int layer, int head);
    QSlider& scale_slider(int layer, int head);
    QCheckBox& selected_ablate() { return *selected_ablate_; }
    QTableWidget& probability_table() { return *probabilities_; }

private:
    void rebuild_heads();
    void sync_controls();
    void show_outcome();
    void show_metric();
    int row_of(int layer, int head) const;

    Session& session_;
    QLabel* selected_label_;
    QCheckBox* selected_ablate_;
    QSlider* selected_scale_;
    QLabel* selected_value_;
    QTableWidget* heads_;
    QPushButton* reset_;
    QComboBox* metric_;
    QLabel* metric_value_;
    QTableWidget* probabilities_;
    QLabel* status_;
    int n_layers_ = 0;
    int n_heads_ = 0;
    bool syncing_ = false;
};

}  // namespace headscope::gui
