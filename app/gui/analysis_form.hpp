// A form for one analysis's parameters, built from its ParamSpecs (numbers, booleans, choices,
// text, head lists), with "Run" to re-run it on the current prompt with the values given.
// Empty fields mean the analysis's defaults.
#pragma once

#include <QWidget>

#include <functional>
#include <map>
#include <string>
#include <vector>

class QFormLayout;
class QLabel;

namespace headscope::gui {

class Session;

class AnalysisForm : public QWidget {
    Q_OBJECT
public:
    AnalysisForm(Session& session, const std::string& analysis_id, QWidget* parent = nullptr);
    // name -> text for every field that differs from the default.
    std::map<std::string, std::string> values() const;

private:
    Session& session_;
    std::string id_;
    QFormLayout* form_;
    QLabel* note_;
    std::vector<std::pair<std::string, std::function<std::string()>>> readers_;
};

}  // namespace headscope::gui
