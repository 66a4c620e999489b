#include "engine_jobs.hpp"

#include <torch/torch.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>

#include "builtin_analyses.hpp"
#include "head_scaling.hpp"
#include "headscope/sdk/analysis_runner.hpp"
#include "headscope/sdk/result_helpers.hpp"
#include "headscope/session.hpp"

namespace headscope::gui {

namespace {

const LoadedModel& require_model(const EngineState& state) {
    if (!state.loaded) throw UsageError("no model is loaded: open one with File > Open Model");
    return *state.loaded;
}

const TokenizedPrompt& require_prompt(const EngineState& state) {
    if (state.prompts.empty() || state.patterns.empty()) throw UsageError("no prompt has been run yet");
    return state.prompts.front();
}

at::Tensor token_tensor(const std::vector<int32_t>& ids) {
    std::vector<int64_t> wide(ids.begin(), ids.end());
    return torch::tensor(wide, torch::kLong).unsqueeze(0);
}

std::vector<TokenPrediction> top_predictions(const Tokenizer& tokenizer, const at::Tensor& log_probs, int k) {
    // log_probs: [V]
    k = std::min<int>(k, static_cast<int>(log_probs.size(0)));
    auto top = log_probs.topk(k);
    auto values = std::get<0>(top).contiguous();
    auto indices = std::get<1>(top).contiguous();
    std::vector<TokenPrediction> out;
    for (int i = 0; i < k; ++i) {
        TokenPrediction p;
        p.id = static_cast<int32_t>(indices[i].item<int64_t>());
        p.text = token_label_text(tokenizer, p.id);
        p.probability = std::exp(values[i].item<double>());
        out.push_back(std::move(p));
    }
    return out;
}

}  // namespace

void init_registry(EngineState& state, const std::vector<std::string>& plugin_dirs) {
    state.plugin_dirs = plugin_dirs;
    state.plugin_reports.clear();
    state.plugin_reports.push_back(register_plugin(state.registry, headscope_builtin_plugin_info(), "built-in"));
    for (auto& report : load_plugins(state.registry, plugin_dirs)) state.plugin_reports.push_back(std::move(report));
}

PluginsSnapshot plugins_snapshot(const EngineState& state) {
    PluginsSnapshot snap;
    snap.reports = state.plugin_reports;
    snap.search_dirs = plugin_search_dirs(state.plugin_dirs);
    for (const auto& info : state.registry.list())
        snap.analyses.push_back(AnalysisSummary{info.id, info.title, info.version, info.description, info.origin,
                                                info.needs_prompts, info.parameters});
    return snap;
}

void load_plugin_into(EngineState& state, const std::string& path) {
    state.plugin_reports.push_back(load_plugin_file(state.registry, path));
}

ModelSummary load_model_into(EngineState& state, const std::string& path, const std::string& tokenizer_path) {
    LoadOptions options;
    options.tokenizer_path = tokenizer_path;
    LoadedModel loaded = load_model(path, options);
    // Forget everything about the previous model before the new one is in place.
    state.loaded.reset();
    state.prompts.clear();
    state.patterns.clear();
    state.baseline_logits = at::Tensor();
    state.weight_results.clear();
    state.loaded = std::move(loaded);
    ++state.model_generation;

    const LoadedModel& m = *state.loaded;
    const ModelConfig& c = m.model->config();
    ModelSummary s;
    s.generation = state.model_generation;
    s.path = m.path;
    s.tokenizer_path = m.tokenizer_path;
    s.format = to_string(m.format);
    s.name = c.name;
    s.n_layers = c.n_layers;
    s.n_heads = c.n_heads;
    s.n_kv_heads = c.n_kv_heads;
    s.d_model = c.d_model;
    s.d_head = c.d_head;
    s.d_vocab = c.d_vocab;
    s.n_ctx = c.n_ctx;
    s.has_bos = m.tokenizer->bos_id() >= 0;
    auto add = [&](const std::string& k, const std::string& v) { s.facts.emplace_back(k, v); };
    if (!c.name.empty()) add("Name", c.name);
    add("Format", s.format);
    add("Architecture", fmt::format("{} ({})", to_string(c.architecture), c.model_type));
    add("Parameters", fmt::format("{:.3f} M", static_cast<double>(m.model->parameter_count()) / 1e6));
    add("Layers", std::to_string(c.n_layers));
    add("Heads", c.n_kv_heads != c.n_heads ? fmt::format("{} query / {} key-value (GQA)", c.n_heads, c.n_kv_heads)
                                           : std::to_string(c.n_heads));
    add("d_model", std::to_string(c.d_model));
    add("d_head", std::to_string(c.d_head));
    add("d_mlp", c.attn_only ? std::string("attention-only") : std::to_string(c.d_mlp));
    add("Vocabulary", std::to_string(c.d_vocab));
    add("Context", std::to_string(c.n_ctx));
    add("Norm", fmt::format("{} (eps {:g})", to_string(c.norm), c.norm_eps));
    add("Positions", c.positions == PositionKind::rotary
                         ? fmt::format("rotary ({}, theta {:g})", to_string(c.rotary_style), c.rope_theta)
                         : std::string(to_string(c.positions)));
    add("Activation", fmt::format("{}{}", to_string(c.activation), c.gated_mlp ? " (gated)" : ""));
    if (c.moe.n_experts > 0)
        add("Experts", fmt::format("{} of {} per token, width {}{}{}", c.moe.top_k, c.moe.n_experts, c.moe.d_expert,
                                   c.moe.d_shared > 0 ? fmt::format(", shared expert {}", c.moe.d_shared) : "",
                                   c.moe.dense_layers.empty() ? "" : fmt::format(", {} dense layers", c.moe.dense_layers.size())));
    if (c.parallel_residual) add("Residual", "parallel");
    add("Tied embeddings", c.tied_embeddings ? "yes" : "no");
    add("Weights", m.model->weight_policy());
    add("Matmul", m.model->matmul_path());
    add("File", m.path);
    if (m.tokenizer_path != m.path) add("Tokenizer", m.tokenizer_path);
    return s;
}

PromptRun run_prompt_in(EngineState& state, const PromptExample& example, int top_k) {
    const LoadedModel& m = require_model(state);
    torch::NoGradGuard no_grad;
    const auto start = std::chrono::steady_clock::now();
    std::vector<TokenizedPrompt> prompts = tokenize_prompts(*m.tokenizer, {example});
    const TokenizedPrompt& p = prompts.front();
    CachedRun run = m.model->run_with_cache(token_tensor(p.ids), {"blocks.*.attn.hook_pattern"});
    const ModelConfig& c = m.model->config();

    std::vector<at::Tensor> patterns;
    for (int l = 0; l < c.n_layers; ++l)
        patterns.push_back(run.cache.at(HookSite::attn_pattern, l)[0].to(torch::kFloat).contiguous());
    at::Tensor log_probs = torch::log_softmax(run.logits[0].to(torch::kFloat), -1);  // [T, V]

    PromptRun out;
    out.example = example;
    out.ids = p.ids;
    out.tokens = p.token_texts;  // token_label_text: BOS as its piece
    out.layers = c.n_layers;
    out.heads = c.n_heads;
    const int64_t T = static_cast<int64_t>(p.ids.size());
    {
        const int k = std::min<int>(top_k, c.d_vocab);
        auto top = log_probs.topk(k, -1);
        at::Tensor values = std::get<0>(top).exp().to(torch::kDouble).contiguous();
        at::Tensor indices = std::get<1>(top).contiguous();
        auto v = values.accessor<double, 2>();
        auto ix = indices.accessor<int64_t, 2>();
        out.predictions.resize(static_cast<size_t>(T));
        for (int64_t t = 0; t < T; ++t)
            for (int i = 0; i < k; ++i) {
                const auto id = static_cast<int32_t>(ix[t][i]);
                out.predictions[static_cast<size_t>(t)].push_back(
                    TokenPrediction{id, token_label_text(*m.tokenizer, id), v[t][i]});
            }
    }
    const NextTokenTarget next = next_token_target(run.logits[0][T - 1], p.answer_id, p.alternative_id);
    const auto target = static_cast<int32_t>(next.answer), alternative = static_cast<int32_t>(next.alternative);
    out.target_id = target;
    out.alternative_id = alternative;
    out.target_text = token_label_text(*m.tokenizer, target);
    if (alternative >= 0) out.alternative_text = token_label_text(*m.tokenizer, alternative);
    // The pattern statistics shown at once: the registered analysis, as the CLI runs it.
    Progress quiet;
    out.pattern_stats = run_analysis(state.registry, AnalysisRequest{kPatternStatistics, {}}, *m.model, *m.tokenizer,
                                     prompts, quiet);

    state.prompts = std::move(prompts);
    state.patterns = std::move(patterns);
    state.baseline_logits = run.logits[0][T - 1].contiguous();
    state.target_id = target;
    state.alternative_id = alternative;
    out.generation = ++state.prompt_generation;
    out.forward_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    return out;
}

HeadPattern head_pattern(const EngineState& state, int layer, int head) {
    require_prompt(state);
    if (layer < 0 || layer >= static_cast<int>(state.patterns.size()))
        throw UsageError(fmt::format("layer {} is out of range (the model has {})", layer, state.patterns.size()));
    const at::Tensor& p = state.patterns[static_cast<size_t>(layer)];
    if (head < 0 || head >= p.size(0))
        throw UsageError(fmt::format("head {} is out of range (the model has {})", head, p.size(0)));
    at::Tensor one = p[head].contiguous();
    HeadPattern out;
    out.generation = state.prompt_generation;
    out.layer = layer;
    out.head = head;
    out.size = static_cast<int>(one.size(0));
    out.values.assign(one.data_ptr<float>(), one.data_ptr<float>() + one.numel());
    return out;
}

QueryRows query_rows(const EngineState& state, int layer, int query) {
    require_prompt(state);
    if (layer < 0 || layer >= static_cast<int>(state.patterns.size()))
        throw UsageError(fmt::format("layer {} is out of range", layer));
    const at::Tensor& p = state.patterns[static_cast<size_t>(layer)];
    const int T = static_cast<int>(p.size(1));
    query = std::clamp(query, 0, T - 1);
    at::Tensor rows = p.select(1, query).contiguous();  // [H, T]
    QueryRows out;
    out.generation = state.prompt_generation;
    out.layer = layer;
    out.query = query;
    out.heads = static_cast<int>(rows.size(0));
    out.size = T;
    out.values.assign(rows.data_ptr<float>(), rows.data_ptr<float>() + rows.numel());
    return out;
}

Result run_analysis_in(EngineState& state, const std::string& id, const std::map<std::string, std::string>& parameters,
                       Progress& progress) {
    const LoadedModel& m = require_model(state);
    const AnalysisInfo& info = state.registry.info(id);
    // Weights-only results are kept per model and parameter set.
    std::string cache_key = id;
    for (const auto& [k, v] : parameters) cache_key += "\n" + k + "=" + v;
    if (!info.needs_prompts) {
        auto it = state.weight_results.find(cache_key);
        if (it != state.weight_results.end()) return it->second;
    } else {
        require_prompt(state);
    }
    Result r;
    try {
        r = run_analysis(state.registry, AnalysisRequest{id, parameters}, *m.model, *m.tokenizer, state.prompts, progress);
    } catch (const UsageError& e) {  // bad parameters: an error of this analysis, shown with its result
        r.analysis_id = id;
        r.analysis_title = info.title;
        r.analysis_version = info.version;
        r.parameters = parameters;
        r.error = e.what();
        return r;
    }
    if (!info.needs_prompts && r.error.empty()) state.weight_results[cache_key] = r;
    return r;
}

InterventionOutcome intervene_in(EngineState& state, const std::vector<HeadScale>& scales, int top_k) {
    const LoadedModel& m = require_model(state);
    const TokenizedPrompt& p = require_prompt(state);
    torch::NoGradGuard no_grad;
    const auto start = std::chrono::steady_clock::now();
    at::Tensor tokens = token_tensor(p.ids);
    at::Tensor logits = m.model->run_with_hooks(tokens, head_scaling_hooks(scales));
    at::Tensor now = logits[0][static_cast<int64_t>(p.ids.size()) - 1];
    const at::Tensor& base = state.baseline_logits;
    at::Tensor lp_now = torch::log_softmax(now.to(torch::kFloat), -1);
    at::Tensor lp_base = torch::log_softmax(base.to(torch::kFloat), -1);

    InterventionOutcome out;
    out.generation = state.prompt_generation;
    out.scales = scales;
    // The same numbers as the head_intervention analysis: the core's next-token metrics.
    NextTokenTarget target;
    target.answer = state.target_id;
    target.alternative = state.alternative_id;
    auto metrics = [&](const at::Tensor& logits) {
        std::array<double, kMetricCount> v{};
        const NextTokenMetrics m = next_token_metrics(logits, target);
        v[static_cast<int>(MetricKind::target_probability)] = m.p_answer;
        v[static_cast<int>(MetricKind::target_logit)] = m.answer_logit;
        v[static_cast<int>(MetricKind::logit_difference)] = m.logit_diff;
        v[static_cast<int>(MetricKind::kl_divergence)] = next_token_kl(base, logits);
        return v;
    };
    out.baseline = metrics(base);
    out.now = metrics(now);

    std::set<int32_t> ids;
    for (const auto& t : top_predictions(*m.tokenizer, lp_base, top_k)) ids.insert(t.id);
    for (const auto& t : top_predictions(*m.tokenizer, lp_now, top_k)) ids.insert(t.id);
    if (state.target_id >= 0) ids.insert(state.target_id);
    for (int32_t id : ids)
        out.changes.push_back(ProbabilityChange{id, token_label_text(*m.tokenizer, id), std::exp(lp_base[id].item<double>()),
                                                std::exp(lp_now[id].item<double>())});
    std::sort(out.changes.begin(), out.changes.end(),
              [](const ProbabilityChange& a, const ProbabilityChange& b) { return a.now > b.now; });
    out.elapsed_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    return out;
}

Provenance provenance_of(const EngineState& state) {
    std::vector<std::string> prompts;
    for (const auto& prompt : state.prompts) prompts.push_back(prompt.example.prompt);
    return session_provenance(require_model(state), prompts, "headscope-gui", "headscope-gui");
}

}  // namespace headscope::gui
