#include "intervene_option.hpp"

#include <fmt/format.h>

#include "headscope/interventions.hpp"

namespace headscope::cli {

void add_intervene_option(CLI::App& command, InterveneOptions& options) {
    command.add_option("--intervene", options.specs,
                       "edit a head: HEAD=zero | HEAD=scale:F | HEAD=pattern:uniform|identity|previous|head:L2H5[@ALPHA] | "
                       "HEAD=channel:F[@RANK] | HEAD=drop_sink[:ALPHA] (repeatable), e.g. L1H4=zero");
}

std::vector<HeadEdit> parsed_edits(const InterveneOptions& options) { return parse_head_edits(options.specs); }

std::vector<NamedHook> intervention_hooks(const InterveneOptions& options, const HookedTransformer& model) {
    return edit_hooks(parsed_edits(options), model);
}

HookScope apply_interventions(const InterveneOptions& options, HookedTransformer& model) {
    HookScope scope;
    for (const auto& h : intervention_hooks(options, model)) scope.add(model.add_hook(h.name_or_glob, h.fn));
    return scope;
}

std::string edits_text(const InterveneOptions& options) {
    std::vector<std::string> parts;
    for (const auto& e : parsed_edits(options)) parts.push_back(to_string(e));
    return fmt::format("{}", fmt::join(parts, ", "));
}

}  // namespace headscope::cli
