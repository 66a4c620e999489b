// Plain data the engine thread sends to the GUI thread: no LibTorch, no Qt. Each message is
// immutable once posted (shared as std::shared_ptr<const T>), so views read it without locks.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "headscope/sdk/parameters.hpp"
#include "headscope/sdk/plugin_loader.hpp"
#include "headscope/sdk/prompts.hpp"
#include "headscope/sdk/result.hpp"

namespace headscope::gui {

// The analysis whose result the GUI shows as soon as a prompt has run.
inline constexpr const char* kPatternStatistics = "pattern_statistics";

struct ModelSummary {
    uint64_t generation = 0;  // counts model loads
    std::string path;
    std::string tokenizer_path;
    std::string format;
    std::string name;
    int n_layers = 0;
    int n_heads = 0;
    int n_kv_heads = 0;
    int d_model = 0;
    int d_head = 0;
    int d_vocab = 0;
    int n_ctx = 0;
    bool has_bos = false;
    std::vector<std::pair<std::string, std::string>> facts;  // label, value (for the side panel)
};

struct TokenPrediction {
    int32_t id = 0;
    std::string text;
    double probability = 0;
};

// One forward pass of the prompt without interventions.
struct PromptRun {
    uint64_t generation = 0;  // counts prompt runs; stale messages carry an older one
    PromptExample example;    // example.prompt is the text that was run
    std::vector<int32_t> ids;
    std::vector<std::string> tokens;                       // display text of each token
    std::vector<std::vector<TokenPrediction>> predictions;  // per position: top next tokens
    int layers = 0;
    int heads = 0;
    // The tokens the intervention metrics score: the example's answer/alternative when given,
    // otherwise the baseline's first and second most likely next tokens.
    int32_t target_id = -1;
    int32_t alternative_id = -1;
    std::string target_text;
    std::string alternative_text;
    // Per-head statistics of this run's patterns (first-token share, previous-token share,
    // entropy) and the attention each token receives: always available, whatever analyses exist.
    Result pattern_stats;  // the pattern_statistics analysis of this prompt
    double forward_ms = 0;
};

// One head's attention pattern, size x size, row-major (query rows, key columns).
struct HeadPattern {
    uint64_t generation = 0;
    int layer = 0;
    int head = 0;
    int size = 0;
    std::vector<float> values;
};

// Every head of one layer, one query row each: heads x size, row-major.
struct QueryRows {
    uint64_t generation = 0;
    int layer = 0;
    int query = 0;
    int heads = 0;
    int size = 0;
    std::vector<float> values;
};

struct HeadScale {
    int layer = 0;
    int head = 0;
    double factor = 1.0;  // 0 = ablated (z of the head zeroed)
};

enum class MetricKind { target_probability = 0, target_logit, logit_difference, kl_divergence };
inline constexpr int kMetricCount = 4;
const char* metric_label(MetricKind kind);

struct ProbabilityChange {
    int32_t id = 0;
    std::string text;
    double baseline = 0;
    double now = 0;
};

// The prompt re-run with heads ablated/scaled, compared with the unedited run.
struct InterventionOutcome {
    uint64_t generation = 0;  // the prompt run it belongs to
    uint64_t request = 0;     // counts intervention requests
    std::vector<HeadScale> scales;
    std::vector<ProbabilityChange> changes;  // baseline top-k and current top-k, by current prob
    std::array<double, kMetricCount> baseline{};
    std::array<double, kMetricCount> now{};
    double elapsed_ms = 0;
};

struct AnalysisSummary {
    std::string id;
    std::string title;
    std::string version;
    std::string description;
    std::string origin;
    bool needs_prompts = true;
    std::vector<ParamSpec> parameters;
};

struct PluginsSnapshot {
    std::vector<PluginLoadReport> reports;
    std::vector<AnalysisSummary> analyses;
    std::vector<std::string> search_dirs;  // where plugins were looked for, in order
};

}  // namespace headscope::gui
