// The work the engine thread does for the GUI, as plain functions of the EngineState. They run
// only on the engine thread (LibTorch lives here) and return torch-free messages.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine_state.hpp"
#include "engine_types.hpp"
#include "headscope/sdk/result_store.hpp"

namespace headscope::gui {

// Registers the built-in analyses and loads plugins from the search path (plus extra dirs).
void init_registry(EngineState& state, const std::vector<std::string>& plugin_dirs);
PluginsSnapshot plugins_snapshot(const EngineState& state);
// Loads one more plugin library; its report joins the state's reports.
void load_plugin_into(EngineState& state, const std::string& path);

ModelSummary load_model_into(EngineState& state, const std::string& path, const std::string& tokenizer_path);

// Tokenizes and runs the prompt, caching every layer's pattern; top_k predictions per position.
PromptRun run_prompt_in(EngineState& state, const PromptExample& example, int top_k = 5);

HeadPattern head_pattern(const EngineState& state, int layer, int head);
QueryRows query_rows(const EngineState& state, int layer, int query);

// Runs one registered analysis on the current prompt (weights-only analyses once per model).
Result run_analysis_in(EngineState& state, const std::string& id, const std::map<std::string, std::string>& parameters,
                       Progress& progress);

// Re-runs the prompt with each head's z scaled by its factor (0 = zero ablation).
InterventionOutcome intervene_in(EngineState& state, const std::vector<HeadScale>& scales, int top_k = 5);

// Provenance of the loaded model and current prompt, for the HDF5 export.
Provenance provenance_of(const EngineState& state);

}  // namespace headscope::gui
