#include "analysis_form.hpp"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleValidator>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QIntValidator>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>

#include <climits>

#include "session.hpp"

namespace headscope::gui {

AnalysisForm::AnalysisForm(Session& session, const std::string& analysis_id, QWidget* parent)
    : QWidget(parent), session_(session), id_(analysis_id) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 6, 0, 0);
    const AnalysisSummary* info = session_.analysis_info(id_);
    if (!info || info->parameters.empty()) {
        auto* run = new QPushButton("Run again");
        connect(run, &QPushButton::clicked, this, [this] { session_.run_analysis(id_); });
        auto* row = new QHBoxLayout;
        row->addWidget(run);
        row->addStretch(1);
        layout->addLayout(row);
        form_ = nullptr;
        note_ = nullptr;
        return;
    }
    layout->addWidget(new QLabel("<b>Parameters</b> (empty = default)"));
    form_ = new QFormLayout;
    layout->addLayout(form_);
    const auto& current = session_.analysis_parameters(id_);
    for (const ParamSpec& spec : info->parameters) {
        auto given = current.find(spec.name);
        const QString value = given == current.end() ? QString() : QString::fromStdString(given->second);
        const QString help = QString::fromStdString(spec.help);
        QWidget* editor = nullptr;
        std::function<std::string()> read;
        if (spec.type == ParamType::boolean) {
            auto* box = new QCheckBox;
            const QString shown = value.isEmpty() ? QString::fromStdString(spec.default_value) : value;
            box->setChecked(shown == "true" || shown == "1" || shown == "yes");
            const bool default_on = spec.default_value == "true" || spec.default_value == "1" || spec.default_value == "yes";
            read = [box, default_on]() -> std::string {
                return box->isChecked() == default_on ? std::string() : (box->isChecked() ? "true" : "false");
            };
            editor = box;
        } else if (spec.type == ParamType::choice && !spec.choices.empty()) {
            auto* combo = new QComboBox;
            for (const auto& c : spec.choices) combo->addItem(QString::fromStdString(c));
            combo->setCurrentText(value.isEmpty() ? QString::fromStdString(spec.default_value) : value);
            const std::string def = spec.default_value;
            read = [combo, def]() -> std::string {
                const std::string v = combo->currentText().toStdString();
                return v == def ? std::string() : v;
            };
            editor = combo;
        } else {
            auto* line = new QLineEdit(value);
            line->setPlaceholderText(QString::fromStdString(spec.default_value.empty() ? std::string("(none)") : spec.default_value));
            if (spec.type == ParamType::integer)
                line->setValidator(new QIntValidator(spec.min < -2e9 ? INT_MIN : static_cast<int>(spec.min),
                                                     spec.max > 2e9 ? INT_MAX : static_cast<int>(spec.max), line));
            else if (spec.type == ParamType::real)
                line->setValidator(new QDoubleValidator(line));
            if (spec.type == ParamType::heads) line->setPlaceholderText("heads, e.g. L1H4,L2H0 (1.4 and 1:4 work too)");
            read = [line]() { return line->text().trimmed().toStdString(); };
            editor = line;
        }
        editor->setToolTip(help);
        auto* label = new QLabel(QString::fromStdString(spec.name) + ":");
        label->setToolTip(help);
        form_->addRow(label, editor);
        readers_.emplace_back(spec.name, std::move(read));
    }
    auto* row = new QHBoxLayout;
    auto* run = new QPushButton("Run with these parameters");
    auto* reset = new QPushButton("Defaults");
    row->addWidget(run);
    row->addWidget(reset);
    row->addStretch(1);
    layout->addLayout(row);
    note_ = new QLabel;
    note_->setForegroundRole(QPalette::PlaceholderText);
    layout->addWidget(note_);
    connect(run, &QPushButton::clicked, this, [this] {
        session_.set_analysis_parameters(id_, values());
        session_.run_analysis(id_);
        note_->setText("running…");
    });
    connect(reset, &QPushButton::clicked, this, [this] {
        session_.set_analysis_parameters(id_, {});
        session_.run_analysis(id_);
        note_->setText("running with the defaults…");
    });
}

std::map<std::string, std::string> AnalysisForm::values() const {
    std::map<std::string, std::string> out;
    for (const auto& [name, read] : readers_) {
        const std::string v = read();
        if (!v.empty()) out[name] = v;
    }
    return out;
}

}  // namespace headscope::gui
