// The analysis SDK: an Analysis declares id, title, version, typed parameters and the hooks it
// needs; run(context) returns a Result. Built-in analyses and user plugins register through the
// same AnalysisRegistry.
#pragma once

#include <ATen/core/Tensor.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "headscope/error.hpp"
#include "headscope/hooked_transformer.hpp"
#include "headscope/sdk/parameters.hpp"
#include "headscope/sdk/prompts.hpp"
#include "headscope/sdk/result.hpp"
#include "headscope/tokenizer.hpp"

namespace headscope {

// Thrown (by check_cancelled) when the user cancels; the runner stops that analysis.
class Cancelled : public Error {
public:
    Cancelled() : Error("cancelled") {}
};

// Progress and cancellation, implemented by the CLI (progress bar, Ctrl+C) and the GUI.
class Progress {
public:
    virtual ~Progress() = default;
    virtual void update(double fraction, const std::string& message) {}
    virtual bool cancelled() const { return false; }
};

// A prompt, tokenized for the model.
struct TokenizedPrompt {
    PromptExample example;
    std::vector<int32_t> ids;               // with BOS when the tokenizer has one
    std::vector<std::string> token_texts;   // one per id, for labels (token_label_text: BOS as its piece)
    int32_t answer_id = -1;                 // first token of example.answer, -1 if none
    int32_t alternative_id = -1;            // first token of example.alternative, -1 if none
    std::vector<int32_t> corrupted_ids;     // empty if no corrupted prompt
};

class AnalysisContext {
public:
    AnalysisContext(HookedTransformer& model, const Tokenizer& tokenizer, const std::vector<TokenizedPrompt>& prompts,
                    ParamValues params, Progress& progress, std::vector<std::string> cached_hooks);

    HookedTransformer& model;
    const Tokenizer& tokenizer;
    const std::vector<TokenizedPrompt>& prompts;
    const ParamValues params;
    Progress& progress;

    const ModelConfig& config() const { return model.config(); }
    // [1, T] int64 token tensor of prompt i (clean) and of its corrupted counterpart.
    at::Tensor tokens(size_t i) const;
    at::Tensor corrupted_tokens(size_t i) const;  // UsageError if the prompt has none
    // The clean run of prompt i with the hooks the analysis declared cached; computed once.
    const CachedRun& clean_run(size_t i);
    // Computes the clean runs of these prompts that are not computed yet, batching prompts of
    // equal length (up to ~4096 tokens a forward): the runs clean_run(i) returns afterwards,
    // many times faster than one forward per prompt. Checks for cancellation between batches.
    void prefetch_clean_runs(const std::vector<size_t>& prompts);
    // For analyses that read the clean runs' next-token logits only: from now on clean runs
    // unembed the final position alone (clean_run(i).logits is [1, 1, d_vocab], and the ln_final
    // hooks hold that position only). Call it before the first clean_run().
    void final_position_logits_only();
    // Throws Cancelled when the user asked to stop; call it between units of work.
    void check_cancelled() const;
    // progress.update() plus check_cancelled().
    void step(double fraction, const std::string& message);

private:
    CachedRun compute_run(const at::Tensor& batch);  // [B, T] tokens -> their run with the cached hooks
    std::vector<std::string> cached_hooks_;
    std::map<size_t, CachedRun> runs_;
    std::vector<int64_t> logit_positions_;  // empty: every position
};

class Analysis {
public:
    virtual ~Analysis() = default;
    virtual std::string id() const = 0;  // [a-z0-9_]+, stable: used in --analysis and in files
    virtual std::string title() const = 0;
    virtual std::string version() const = 0;
    virtual std::string description() const = 0;
    virtual std::vector<ParamSpec> parameters() const { return {}; }
    // Hook names or globs to cache in clean_run(); nothing else is cached.
    virtual std::vector<std::string> hooks(const ModelConfig& config, const ParamValues& params) const { return {}; }
    // false for analyses of the weights alone (they run once, whatever the prompts).
    virtual bool needs_prompts() const { return true; }
    virtual Result run(AnalysisContext& context) = 0;
};

using AnalysisFactory = std::function<std::unique_ptr<Analysis>()>;

struct AnalysisInfo {
    std::string id, title, version, description;
    std::vector<ParamSpec> parameters;
    bool needs_prompts = true;
    std::string origin;  // "built-in" or the plugin's file
};

class AnalysisRegistry {
public:
    // Creates one instance to read its id; throws UsageError on a duplicate or invalid id.
    void add(AnalysisFactory factory, const std::string& origin = "built-in");
    std::vector<AnalysisInfo> list() const;  // sorted by id
    bool contains(const std::string& id) const;
    const AnalysisInfo& info(const std::string& id) const;
    // Throws UsageError listing the known ids for an unknown one.
    std::unique_ptr<Analysis> create(const std::string& id) const;
    // Moves every entry of `other` in; throws UsageError (adding nothing) if an id exists.
    void merge(AnalysisRegistry&& other);
    // The origin every add() is attributed to while a plugin registers (set by the loader).
    void set_current_origin(std::string origin) { current_origin_ = std::move(origin); }

private:
    struct Entry {
        AnalysisInfo info;
        AnalysisFactory factory;
    };
    std::map<std::string, Entry> entries_;
    std::string current_origin_;
};

}  // namespace headscope
