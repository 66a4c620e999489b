// `--intervene SPEC` (repeatable) for run, eval, generate and analyze: head edits in the grammar
// of headscope/intervention_spec.hpp (L1H4=zero, L2H0=scale:1.5, L0H3=pattern:identity@0.5).
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "headscope/hooked_transformer.hpp"
#include "headscope/intervention_spec.hpp"

namespace headscope::cli {

struct InterveneOptions {
    std::vector<std::string> specs;
    bool any() const { return !specs.empty(); }
};

void add_intervene_option(CLI::App& command, InterveneOptions& options);
// The parsed edits (UsageError showing the grammar for a bad spec).
std::vector<HeadEdit> parsed_edits(const InterveneOptions& options);
// Hooks for the edits, checked against the model's layers and heads.
std::vector<NamedHook> intervention_hooks(const InterveneOptions& options, const HookedTransformer& model);
// Registers the edits on the model until the scope dies (every forward pass sees them).
HookScope apply_interventions(const InterveneOptions& options, HookedTransformer& model);
// "L1H4=zero, L2H0=scale:1.5".
std::string edits_text(const InterveneOptions& options);

}  // namespace headscope::cli
