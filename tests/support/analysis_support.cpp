#include "support/analysis_support.hpp"

#include "builtin_analyses.hpp"
#include "headscope/sdk/plugin_loader.hpp"

namespace headscope::test {

const AnalysisRegistry& builtin_registry() {
    static const AnalysisRegistry registry = [] {
        AnalysisRegistry r;
        const PluginLoadReport report = register_plugin(r, headscope_builtin_plugin_info(), "built-in");
        if (!report.loaded) throw std::runtime_error("built-in analyses failed to register: " + report.error);
        return r;
    }();
    return registry;
}

Result run_builtin(const std::string& id, HookedTransformer& model, const Tokenizer& tokenizer,
                   const std::vector<TokenizedPrompt>& prompts, std::map<std::string, std::string> params) {
    Progress quiet;
    Result r = run_analysis(builtin_registry(), {id, std::move(params)}, model, tokenizer, prompts, quiet);
    INFO(id << " failed: " << r.error);
    REQUIRE(r.error.empty());
    return r;
}

}  // namespace headscope::test
