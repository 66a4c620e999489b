#include "headscope/sdk/analysis_runner.hpp"
#include "headscope/sdk/result_helpers.hpp"

#include <torch/torch.h>

#include <fmt/format.h>

namespace headscope {

namespace {
int32_t first_token(const Tokenizer& tok, const std::string& text) {
    if (text.empty()) return -1;
    Encoding e = tok.encode(text, false);
    // SentencePiece-style vocabularies turn a leading space into the dummy prefix, which is
    // what a continuation token carries; the first id is the scored one.
    return e.ids.empty() ? -1 : e.ids.front();
}
}  // namespace

std::vector<TokenizedPrompt> tokenize_prompts(const Tokenizer& tok, const std::vector<PromptExample>& prompts) {
    std::vector<TokenizedPrompt> out;
    const bool bos = tok.bos_id() >= 0;
    for (const auto& p : prompts) {
        TokenizedPrompt t;
        t.example = p;
        t.ids = tok.encode(p.prompt, bos).ids;
        if (t.ids.empty()) throw UsageError("a prompt is empty and the tokenizer has no BOS token to start from");
        for (int32_t id : t.ids) t.token_texts.push_back(token_label_text(tok, id));  // BOS as "<s>", not ""
        t.answer_id = first_token(tok, p.answer);
        t.alternative_id = first_token(tok, p.alternative);
        if (!p.corrupted_prompt.empty()) t.corrupted_ids = tok.encode(p.corrupted_prompt, bos).ids;
        out.push_back(std::move(t));
    }
    return out;
}

std::map<std::string, std::map<std::string, std::string>> parse_settings(const std::vector<std::string>& settings) {
    std::map<std::string, std::map<std::string, std::string>> out;
    for (const auto& s : settings) {
        size_t eq = s.find('=');
        size_t dot = s.find('.');
        if (eq == std::string::npos || dot == std::string::npos || dot > eq || dot == 0 || dot + 1 == eq)
            throw UsageError("--set '" + s + "': write ANALYSIS.PARAMETER=VALUE, e.g. head_intervention.scale=0.5");
        out[s.substr(0, dot)][s.substr(dot + 1, eq - dot - 1)] = s.substr(eq + 1);
    }
    return out;
}

Result run_analysis(const AnalysisRegistry& registry, const AnalysisRequest& request, HookedTransformer& model,
                    const Tokenizer& tokenizer, const std::vector<TokenizedPrompt>& prompts, Progress& progress) {
    std::unique_ptr<Analysis> analysis = registry.create(request.id);
    ParamValues params(request.id, analysis->parameters(), request.parameters);
    if (analysis->needs_prompts() && prompts.empty())
        throw UsageError(request.id + " needs at least one prompt (--prompt TEXT or --prompts FILE.jsonl)");
    Result result;
    std::vector<std::string> hooks = analysis->hooks(model.config(), params);
    AnalysisContext context(model, tokenizer, prompts, params, progress, hooks);
    const uint64_t mark = model.hook_mark();
    try {
        result = analysis->run(context);
    } catch (const Cancelled&) {
        model.remove_hooks_added_since(mark);
        throw;
    } catch (const std::exception& e) {
        result = Result{};
        result.error = e.what();
    } catch (...) {
        result = Result{};
        result.error = "the analysis threw a non-standard exception";
    }
    // An analysis that failed mid-run may have left hooks behind: remove those, but not the
    // caller's (--intervene edits, a Python user's hooks), which hold for every analysis.
    model.remove_hooks_added_since(mark);
    result.analysis_id = analysis->id();
    result.analysis_title = analysis->title();
    result.analysis_version = analysis->version();
    result.parameters = params.as_text();
    return result;
}

}  // namespace headscope
