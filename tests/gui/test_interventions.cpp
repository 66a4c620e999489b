// The intervention panel: toggling "ablate" for a head (or moving its scale slider) re-runs the
// prompt and shows the next-token probability that the core computes for the same edit with a
// hand-written hook on blocks.L.attn.hook_z (and that an independent numpy forward pass gives);
// reset restores the baseline.
#include <QCheckBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QJsonArray>
#include <QSlider>
#include <QTableWidget>

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "gui_test_support.hpp"
#include "headscope/hook_names.hpp"
#include "headscope/model_loader.hpp"
#include "analysis_form.hpp"
#include "intervention_panel.hpp"
#include "results_view.hpp"
#include "support/test_support.hpp"

using namespace headscope;
using namespace headscope::gui;
using namespace headscope::gui::test;

namespace {
const char* kPrompt = "Lily and Ben went to the park. Lily saw a big red ball and gave it to";

// Next-token probabilities at the last position with head (layer, head)'s z multiplied by
// factor, by a hook written here (not the GUI's).
torch::Tensor probabilities_with_scaled_head(const std::vector<int32_t>& ids, int layer, int head, double factor) {
    static headscope::LoadedModel model = headscope::load_model(headscope::test::stories_bin());
    torch::NoGradGuard no_grad;
    std::vector<int64_t> wide(ids.begin(), ids.end());
    torch::Tensor tokens = torch::tensor(wide, torch::kLong).unsqueeze(0);
    headscope::HookFn hook = [=](const at::Tensor& z, const headscope::HookPoint&) -> std::optional<at::Tensor> {
        at::Tensor mask = torch::ones({z.size(2)}, z.options());
        mask[head] = factor;
        return z * mask.view({1, 1, -1, 1});
    };
    torch::Tensor logits = model.model->run_with_hooks(tokens, {{headscope::hook_name("z", layer), hook}});
    return torch::softmax(logits[0][static_cast<int64_t>(ids.size()) - 1].to(torch::kDouble), -1);
}
}  // namespace

class InterventionsTest : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void ablation_toggle_shows_the_probability_the_core_computes() {
        Workbench wb;
        QVERIFY(wb.open_stories(kPrompt));
        InterventionPanel& panel = wb.window.intervention_panel();
        const PromptRun* run = wb.session.run();
        const std::vector<int32_t> ids = run->ids;
        const int32_t top = run->predictions.back().front().id;  // the baseline's most likely next token
        const torch::Tensor base = probabilities_with_scaled_head(ids, 0, 0, 1.0);
        QVERIFY(panel.shown_probability(top).has_value());
        QVERIFY(std::abs(*panel.shown_probability(top) - base[top].item<double>()) < 1e-5);

        // Ablate L1H3 by its checkbox in the head list.
        const int layer = 1, head = 3;
        auto previous = wb.session.outcome();
        panel.ablate_checkbox(layer, head).click();
        QCOMPARE(wb.session.head_scale(layer, head), 0.0);
        QVERIFY(wait_until([&] { return wb.session.outcome() != previous && !wb.session.outcome()->scales.empty(); }, 60000));
        const torch::Tensor ablated = probabilities_with_scaled_head(ids, layer, head, 0.0);
        const double shown = *panel.shown_probability(top);
        QVERIFY2(std::abs(shown - ablated[top].item<double>()) < 1e-5,
                 qPrintable(QString("shown %1, hook %2").arg(shown).arg(ablated[top].item<double>())));
        QVERIFY(std::abs(shown - base[top].item<double>()) > 1e-4);  // the edit mattered
        QVERIFY(std::abs(*panel.shown_baseline(top) - base[top].item<double>()) < 1e-5);
        // The text in the table is that number.
        const QTableWidget& table = panel.probability_table();
        bool text_found = false;
        for (int r = 0; r < table.rowCount(); ++r)
            if (table.item(r, 2)->text() == QString::number(ablated[top].item<double>() * 100.0, 'f', 2) + "%") text_found = true;
        QVERIFY(text_found);

        // An independent numpy forward pass with the head's output zeroed agrees.
        const QJsonDocument ref = head_probe({"probs", ids_json(ids), std::to_string(layer), std::to_string(head), "0"});
        QVERIFY(std::abs(ref.object()["probs"].toArray()[top].toDouble() - shown) < 1e-4);

        // Reset restores the baseline.
        previous = wb.session.outcome();
        wb.session.reset_interventions();
        QVERIFY(wait_until([&] { return wb.session.outcome() != previous; }, 60000));
        QVERIFY(!panel.ablate_checkbox(layer, head).isChecked());
        QVERIFY(std::abs(*panel.shown_probability(top) - base[top].item<double>()) < 1e-5);
    }

    void scale_slider_re_runs_with_the_scaled_head() {
        Workbench wb;
        QVERIFY(wb.open_stories(kPrompt));
        InterventionPanel& panel = wb.window.intervention_panel();
        const std::vector<int32_t> ids = wb.session.run()->ids;
        const int32_t top = wb.session.run()->predictions.back().front().id;
        auto previous = wb.session.outcome();
        panel.scale_slider(4, 6).setValue(150);  // x1.5
        QCOMPARE(wb.session.head_scale(4, 6), 1.5);
        QVERIFY(wait_until([&] { return wb.session.outcome() != previous && !wb.session.outcome()->scales.empty(); }, 60000));
        const torch::Tensor scaled = probabilities_with_scaled_head(ids, 4, 6, 1.5);
        QVERIFY(std::abs(*panel.shown_probability(top) - scaled[top].item<double>()) < 1e-5);
        // Rapid changes collapse: the last request wins.
        for (int v = 0; v <= 200; v += 20) panel.scale_slider(4, 6).setValue(v);
        QVERIFY(wb.settle());
        QCOMPARE(wb.session.outcome()->scales.size(), size_t{1});
        QCOMPARE(wb.session.outcome()->scales.front().factor, 2.0);
        const torch::Tensor doubled = probabilities_with_scaled_head(ids, 4, 6, 2.0);
        QVERIFY(std::abs(*panel.shown_probability(top) - doubled[top].item<double>()) < 1e-5);
    }

    // An analysis that needs parameters (head_intervention needs its heads) fails with a message
    // until they are given in its form in the results view; then it re-runs with them.
    void analysis_parameters_form_re_runs_the_analysis() {
        Workbench wb;
        QVERIFY(wb.open_stories(kPrompt));
        wb.session.run_analysis("head_intervention");
        QVERIFY(wb.settle());
        QVERIFY(wb.session.result("head_intervention") != nullptr);
        QVERIFY(QString::fromStdString(wb.session.result("head_intervention")->error).contains("heads"));

        ResultsView& results = wb.window.results_view();
        wb.window.show_view("results");
        QVERIFY(results.show_item("head_intervention"));
        auto* form = results.findChild<AnalysisForm*>();
        QVERIFY(form != nullptr);
        QLineEdit* heads = nullptr;
        auto* layout = form->findChild<QFormLayout*>();
        QVERIFY(layout != nullptr);
        for (int r = 0; r < layout->rowCount(); ++r) {
            auto* label = qobject_cast<QLabel*>(layout->itemAt(r, QFormLayout::LabelRole)->widget());
            if (label && label->text() == "heads:") heads = qobject_cast<QLineEdit*>(layout->itemAt(r, QFormLayout::FieldRole)->widget());
        }
        QVERIFY(heads != nullptr);
        QTest::keyClicks(heads, "1.3");
        QPushButton* run = nullptr;
        for (auto* b : form->findChildren<QPushButton*>())
            if (b->text().startsWith("Run")) run = b;
        QVERIFY(run != nullptr);
        auto before = wb.session.results().at("head_intervention");
        run->click();
        QVERIFY(wait_until([&] { return wb.session.results().at("head_intervention") != before; }, 60000));
        const Result* r = wb.session.result("head_intervention");
        QVERIFY2(r->error.empty(), r->error.c_str());
        QCOMPARE(r->parameters.at("heads"), std::string("1.3"));
        // Its probability after zeroing L1H3 is the one our own hook gives for the model's answer.
        const Table* per_prompt = nullptr;
        for (const auto& item : r->items)
            if (const auto* t = std::get_if<Table>(&item); t && t->key == "per_prompt") per_prompt = t;
        QVERIFY(per_prompt && !per_prompt->rows.empty());
        const int32_t top = wb.session.run()->predictions.back().front().id;
        const double hook = probabilities_with_scaled_head(wb.session.run()->ids, 1, 3, 0.0)[top].item<double>();
        QVERIFY(std::abs(std::get<double>(per_prompt->rows[0][5]) - hook) < 1e-5);

        // The panel's numbers for the same edit are the analysis's (one core implementation):
        // p(answer), the logit difference and the KL after zeroing L1H3.
        auto previous = wb.session.outcome();
        wb.window.intervention_panel().ablate_checkbox(1, 3).click();
        QVERIFY(wait_until([&] { return wb.session.outcome() != previous && !wb.session.outcome()->scales.empty(); }, 60000));
        const auto& now = wb.session.outcome()->now;
        auto column = [&](const char* name) {
            const auto it = std::find(per_prompt->columns.begin(), per_prompt->columns.end(), name);
            return std::get<double>(per_prompt->rows[0][static_cast<size_t>(it - per_prompt->columns.begin())]);
        };
        QVERIFY(std::abs(now[static_cast<int>(MetricKind::target_probability)] - column("p_answer_after")) < 1e-12);
        QVERIFY(std::abs(now[static_cast<int>(MetricKind::logit_difference)] - column("logit_diff_after")) < 1e-9);
        QVERIFY(std::abs(now[static_cast<int>(MetricKind::kl_divergence)] - column("kl_divergence")) < 1e-12);
    }
};

HEADSCOPE_GUI_TEST_MAIN(InterventionsTest)
#include "test_interventions.moc"
