// Running analyses: tokenizing prompt sets, filling parameters, turning an analysis's exception
// into an error for that analysis only.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "headscope/sdk/analysis.hpp"

namespace headscope {

// Prompts with BOS when the tokenizer has one. Answers are tokenized without BOS; their first
// token is scored.
std::vector<TokenizedPrompt> tokenize_prompts(const Tokenizer& tokenizer, const std::vector<PromptExample>& prompts);

struct AnalysisRequest {
    std::string id;
    std::map<std::string, std::string> parameters;  // name -> text
};

// Parses "id.param=value" settings into per-analysis maps. Throws UsageError.
std::map<std::string, std::map<std::string, std::string>> parse_settings(const std::vector<std::string>& settings);

// Runs one analysis. Unknown ids and bad parameters throw UsageError before any work; an
// exception thrown by the analysis itself becomes Result::error (Cancelled is rethrown).
Result run_analysis(const AnalysisRegistry& registry, const AnalysisRequest& request, HookedTransformer& model,
                    const Tokenizer& tokenizer, const std::vector<TokenizedPrompt>& prompts, Progress& progress);

// The attention patterns a report's head cards draw (ResultsFile::card_patterns): the pattern of
// every card head of `results` (report/findings.hpp) on the representative prompt — the prompt of
// median length, the first of them on a tie — its last 64 positions when it is longer. Empty when
// there are no prompts or no heads. Call it after the analyses and store it with their results.
std::vector<Matrix> head_card_patterns(HookedTransformer& model, const std::vector<TokenizedPrompt>& prompts,
                                       const std::vector<Result>& results);

}  // namespace headscope
