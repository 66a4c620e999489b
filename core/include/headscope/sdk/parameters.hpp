// Typed analysis parameters: declared with defaults and help by an analysis, set by users as
// text (`--set id.param=value`, the GUI's forms), validated before a run.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "headscope/sdk/head_ref.hpp"

namespace headscope {

enum class ParamType { integer, real, boolean, text, choice, heads };
const char* to_string(ParamType t);

struct ParamSpec {
    std::string name;
    ParamType type = ParamType::text;
    std::string default_value;  // as text, valid for the type
    std::string help;
    std::vector<std::string> choices;  // for ParamType::choice
    double min = -1e300, max = 1e300;  // for integer / real

    // Named builders, so a declaration reads as what it is:
    //   ParamSpec::integer("top_k", 5, "next tokens listed", 1, 100)
    static ParamSpec integer(std::string name, int64_t default_value, std::string help, double min = -1e300,
                             double max = 1e300);
    static ParamSpec real(std::string name, double default_value, std::string help, double min = -1e300,
                          double max = 1e300);
    static ParamSpec boolean(std::string name, bool default_value, std::string help);
    static ParamSpec text(std::string name, std::string default_value, std::string help);
    static ParamSpec choice(std::string name, std::string default_value, std::vector<std::string> choices,
                            std::string help);
    static ParamSpec heads(std::string name, std::string default_value, std::string help);
};


// Values for one analysis run: every declared parameter has a value (default or set).
class ParamValues {
public:
    ParamValues() = default;
    // Fills defaults, then applies `overrides` (name -> text). Throws UsageError naming the
    // analysis, parameter and problem for an unknown name or a value that does not parse.
    ParamValues(const std::string& analysis_id, const std::vector<ParamSpec>& specs,
                const std::map<std::string, std::string>& overrides = {});

    int64_t get_int(const std::string& name) const;
    double get_real(const std::string& name) const;
    bool get_bool(const std::string& name) const;
    const std::string& get_text(const std::string& name) const;  // also choices
    // "L1H4,2.0,3:1" (see parse_heads); "" -> empty list.
    std::vector<HeadRef> get_heads(const std::string& name) const;
    const std::map<std::string, std::string>& as_text() const { return values_; }

private:
    const std::string& raw(const std::string& name) const;
    std::string analysis_;
    std::map<std::string, std::string> values_;
};

}  // namespace headscope
