// What the engine thread owns: the model, the analysis registry and the current prompt's run.
// Only code running on the engine thread touches it.
#pragma once

#include <ATen/core/Tensor.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "headscope/model_loader.hpp"
#include "headscope/sdk/analysis.hpp"
#include "headscope/sdk/plugin_loader.hpp"

namespace headscope::gui {

struct EngineState {
    AnalysisRegistry registry;
    std::vector<PluginLoadReport> plugin_reports;
    std::vector<std::string> plugin_dirs;

    std::optional<LoadedModel> loaded;
    uint64_t model_generation = 0;

    // The current prompt (one), its attention patterns per layer ([H, T, T], float, contiguous)
    // and the unedited next-token logits at the last position ([V], float).
    std::vector<TokenizedPrompt> prompts;
    uint64_t prompt_generation = 0;
    std::vector<at::Tensor> patterns;
    at::Tensor baseline_logits;
    int32_t target_id = -1;
    int32_t alternative_id = -1;

    // Results of analyses that read only the weights, for the loaded model.
    std::map<std::string, Result> weight_results;
};

}  // namespace headscope::gui
