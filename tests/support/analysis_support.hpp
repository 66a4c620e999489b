// Shared by the analysis tests: run one built-in analysis through the same registry a plugin
// uses, and look up its result items (a missing or mistyped item fails the test).
#pragma once

#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <variant>
#include <vector>

#include "headscope/model_loader.hpp"
#include "headscope/sdk/analysis_runner.hpp"

namespace headscope::test {

// Every built-in analysis, registered once through the plugin path.
const AnalysisRegistry& builtin_registry();

// Runs analysis `id` quietly; REQUIREs that it succeeded.
Result run_builtin(const std::string& id, HookedTransformer& model, const Tokenizer& tokenizer,
                   const std::vector<TokenizedPrompt>& prompts, std::map<std::string, std::string> params = {});
inline Result run_builtin(const std::string& id, LoadedModel& m, const std::vector<TokenizedPrompt>& prompts,
                          std::map<std::string, std::string> params = {}) {
    return run_builtin(id, *m.model, *m.tokenizer, prompts, std::move(params));
}

template <class T>
const T& item(const Result& r, const std::string& key) {
    const ResultItem* it = r.find(key);
    INFO("result item " << key);
    REQUIRE(it != nullptr);
    REQUIRE(std::holds_alternative<T>(*it));
    return std::get<T>(*it);
}
inline const Table& table(const Result& r, const std::string& key) { return item<Table>(r, key); }
inline const HeadGrid& grid(const Result& r, const std::string& key) { return item<HeadGrid>(r, key); }
inline const Matrix& matrix(const Result& r, const std::string& key) { return item<Matrix>(r, key); }

}  // namespace headscope::test
