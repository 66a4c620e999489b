// head_attribution: which heads matter for a metric (the answer's logit, the logit difference
// answer − alternative, or the loss) at the final position, four ways:
//   dla                   direct logit attribution through the final norm (scale frozen)
//   ablation              change of the metric when a head is zero/mean/resample-ablated
//   attribution_patching  gradient estimate of clean→corrupted patching, one fwd+bwd per prompt
//   activation_patching   change of the corrupted run's metric when a head's clean z is patched in
#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "head_attribution/attribution_items.hpp"
#include "head_attribution/attribution_parts.hpp"
#include "headscope/hook_names.hpp"

namespace headscope {

namespace {
using namespace attribution;

const std::vector<std::string> kParts{"dla", "ablation", "attribution_patching", "activation_patching"};

struct Options {
    MetricKind metric = MetricKind::logit_diff;
    std::set<std::string> parts;
    std::string ablation = "mean";
    bool final_only = false;
    size_t top_k = 10;
};

std::set<std::string> parse_parts(const std::string& text) {
    std::set<std::string> parts;
    std::stringstream ss(text);
    std::string item;
    while (std::getline(ss, item, ',')) {
        item.erase(0, item.find_first_not_of(" \t"));
        item.erase(item.find_last_not_of(" \t") + 1);
        if (item.empty()) continue;
        if (item == "all") {
            parts.insert(kParts.begin(), kParts.end());
            continue;
        }
        if (std::find(kParts.begin(), kParts.end(), item) == kParts.end())
            throw UsageError(fmt::format("head_attribution.parts: unknown part '{}' (expected a comma-separated list of "
                                         "{} or all)",
                                         item, fmt::join(kParts, ", ")));
        parts.insert(item);
    }
    if (parts.empty()) throw UsageError("head_attribution.parts: choose at least one of " + fmt::format("{}", fmt::join(kParts, ", ")));
    return parts;
}

Options read_options(const ParamValues& p) {
    Options o;
    o.metric = parse_metric(p.get_text("metric"));
    o.parts = parse_parts(p.get_text("parts"));
    o.ablation = p.get_text("ablation");
    o.final_only = p.get_text("position") == "final";
    o.top_k = static_cast<size_t>(p.get_int("top_k"));
    return o;
}

std::string z_name(int l) { return hook_name(HookKey{HookSite::attn_z, l}); }

// z of one layer reduced to what a patch needs: the last position ([1, 1, H, dh]) or all.
torch::Tensor for_patch(const torch::Tensor& z, bool final_only) {
    return final_only ? z.select(1, -1).unsqueeze(1) : z;
}

class HeadAttribution : public Analysis {
public:
    std::string id() const override { return "head_attribution"; }
    std::string title() const override { return "Head attribution"; }
    std::string version() const override { return "1.0"; }
    std::string description() const override {
        return "Which heads drive a metric (answer logit, logit difference or loss) at the final position: direct "
               "logit attribution, ablation, attribution patching and activation patching, averaged over the prompts.";
    }
    std::vector<ParamSpec> parameters() const override {
        return {
            ParamSpec::choice("metric", "logit_diff", {"answer_logit", "logit_diff", "loss"},
                              "answer_logit, logit_diff (answer - alternative) or loss (-log p(answer)) at the final position"),
            ParamSpec::text("parts", "dla,ablation,attribution_patching,activation_patching",
                            "comma-separated parts to compute: dla, ablation, attribution_patching, activation_patching (or all)"),
            ParamSpec::choice("ablation", "mean", {"zero", "mean", "resample"},
                              "zero, mean (over the prompt set) or resample (the corrupted prompt's z)"),
            ParamSpec::choice("position", "all", {"all", "final"},
                              "positions ablated/patched: all (needs corrupted prompts of the same length) or final"),
            ParamSpec::integer("top_k", 10, "rows of the top-heads table", 1, 100000),
        };
    }
    std::vector<std::string> hooks(const ModelConfig& config, const ParamValues& params) const override {
        if (parse_parts(params.get_text("parts")).count("dla")) return dla_hooks(config);
        return {"blocks.*.attn.hook_z"};
    }
    Result run(AnalysisContext& ctx) override;
};

Result HeadAttribution::run(AnalysisContext& ctx) {
    const Options opt = read_options(ctx.params);
    const ModelConfig& cfg = ctx.config();
    HookedTransformer& model = ctx.model;
    const int L = cfg.n_layers, H = cfg.n_heads;
    const size_t N = ctx.prompts.size();
    const std::string metric_text = describe(opt.metric);
    const std::string where = opt.final_only ? "at the final position" : "at every position";
    auto cancel = [&ctx] { ctx.check_cancelled(); };

    Result result;
    // Targets and clean metrics.
    std::vector<Target> targets(N);
    std::vector<double> clean(N), corrupted(N, std::nan(""));
    std::vector<bool> has_corrupted(N, false);
    size_t answers_from_model = 0, alternatives_from_model = 0, corrupted_usable = 0, corrupted_given = 0;
    for (size_t i = 0; i < N; ++i) {
        ctx.step(0.05 * static_cast<double>(i) / static_cast<double>(N), "clean runs");
        const CachedRun& run = ctx.clean_run(i);
        targets[i] = resolve_target(ctx.prompts[i], run.logits[0][-1], opt.metric);
        answers_from_model += targets[i].answer_from_model;
        alternatives_from_model += targets[i].alternative_from_model;
        clean[i] = metric_value(run.logits, opt.metric, targets[i]);
        const auto& p = ctx.prompts[i];
        corrupted_given += !p.corrupted_ids.empty();
        has_corrupted[i] = !p.corrupted_ids.empty() && (opt.final_only || p.corrupted_ids.size() == p.ids.size());
        corrupted_usable += has_corrupted[i];
    }
    const bool needs_corrupted = opt.parts.count("attribution_patching") || opt.parts.count("activation_patching") ||
                                 (opt.parts.count("ablation") && opt.ablation == "resample");
    if (needs_corrupted) {
        torch::NoGradGuard no_grad;
        for (size_t i = 0; i < N; ++i)
            if (has_corrupted[i]) corrupted[i] = metric_value(model.forward(ctx.corrupted_tokens(i)), opt.metric, targets[i]);
    }
    double mean_clean = 0, mean_corr = 0;
    for (size_t i = 0; i < N; ++i) mean_clean += clean[i] / static_cast<double>(N);
    for (size_t i = 0; i < N; ++i)
        if (has_corrupted[i]) mean_corr += corrupted[i] / static_cast<double>(corrupted_usable);
    result.summary.push_back(fmt::format("metric: {} at the final position; mean {:.4g} over {} prompt(s){}", metric_text,
                                         mean_clean, N,
                                         corrupted_usable ? fmt::format(", {:.4g} on their corrupted prompts", mean_corr) : ""));
    if (answers_from_model)
        result.summary.push_back(fmt::format("{} prompt(s) have no answer token: the clean run's top token is used", answers_from_model));
    if (alternatives_from_model)
        result.summary.push_back(fmt::format("{} prompt(s) have no usable alternative: the clean run's best other token is used",
                                             alternatives_from_model));
    if (needs_corrupted && corrupted_usable < N) {
        const size_t wrong_length = corrupted_given - corrupted_usable;
        result.summary.push_back(fmt::format(
            "{} of {} prompt(s) lack a corrupted prompt{}; parts that need one skip them", N - corrupted_usable, N,
            wrong_length ? fmt::format(" ({} have one of another token length, usable only with position=final)", wrong_length) : ""));
    }

    const double parts_total = static_cast<double>(opt.parts.size());
    double part_index = 0;
    auto progress = [&](size_t i, const std::string& what) {
        ctx.step(0.05 + 0.95 * (part_index + static_cast<double>(i) / static_cast<double>(N)) / parts_total,
                 fmt::format("{} {}/{}", what, i + 1, N));
    };
    std::vector<NamedScores> scores;
    std::vector<double> dla_mean, attr_mean, act_mean;

    // (a) Direct logit attribution.
    if (opt.parts.count("dla")) {
        std::vector<std::vector<double>> per_prompt;
        std::vector<std::vector<double>> components;
        std::vector<std::string> names;
        double constant = 0, linear = 0, max_error = 0;
        for (size_t i = 0; i < N; ++i) {
            progress(i, "direct logit attribution");
            const CachedRun& run = ctx.clean_run(i);
            DlaPrompt d = direct_logit_attribution(model, run, vocab_direction(run.logits[0][-1], opt.metric, targets[i]));
            per_prompt.push_back(d.heads);
            std::vector<double> comp;
            names.clear();
            for (const auto& c : d.components) names.push_back(c.name), comp.push_back(c.value);
            components.push_back(comp);
            constant += d.constant / static_cast<double>(N);
            linear += d.metric_linear / static_cast<double>(N);
            max_error = std::max(max_error, d.error);
        }
        dla_mean = mean_rows(per_prompt);
        result.items.push_back(make_grid(
            "dla_heads", "Direct logit attribution",
            fmt::format("Each head's direct contribution to {} at the final position: z·W_O through the final norm with its "
                        "scale frozen from the run, projected on the unembedding{}; mean over {} prompt(s).",
                        metric_text, opt.metric == MetricKind::loss ? " (the loss linearised at the run: W_U·(softmax − e_answer))" : "",
                        N),
            L, H, dla_mean));
        Table t;
        t.key = "dla_components";
        t.title = "Direct logit attribution of the other components";
        t.description = "Embeddings, MLPs (without b_out) and all attention/MLP biases; with the heads and the constant "
                        "(final-norm bias, b_U) they add up to the metric (linearised for the loss).";
        t.columns = {"component", "mean_contribution"};
        std::vector<double> comp_mean = mean_rows(components);
        double heads_sum = 0;
        for (double v : dla_mean) heads_sum += v;
        for (size_t c = 0; c < names.size(); ++c) t.rows.push_back({names[c], comp_mean[c]});
        t.rows.push_back({std::string("all heads"), heads_sum});
        t.rows.push_back({std::string("constant (norm bias, b_U)"), constant});
        t.rows.push_back({std::string("total = metric"), linear});
        result.items.push_back(std::move(t));
        result.summary.push_back(fmt::format("DLA: {} (components sum to the metric within {:.2g})",
                                             top_heads_text(dla_mean, H, 3), max_error));
        scores.push_back({"dla", dla_mean});
        ++part_index;
    }

    // (b) Ablation.
    if (opt.parts.count("ablation")) {
        std::vector<torch::Tensor> mean_z(static_cast<size_t>(L));
        std::string mean_note;
        if (opt.ablation == "mean") {
            bool same_length = true;
            for (size_t i = 0; i < N; ++i) same_length &= ctx.prompts[i].ids.size() == ctx.prompts[0].ids.size();
            const bool per_position = !opt.final_only && same_length;
            for (int l = 0; l < L; ++l) {
                torch::Tensor sum;
                double count = 0;
                for (size_t i = 0; i < N; ++i) {
                    torch::Tensor z = ctx.clean_run(i).cache.at(z_name(l)).to(torch::kDouble);  // [1, T, H, dh]
                    torch::Tensor part = opt.final_only ? z.select(1, -1).unsqueeze(1)
                                         : per_position ? z
                                                        : z.sum(1, true);
                    count += opt.final_only || per_position ? 1.0 : static_cast<double>(z.size(1));
                    sum = sum.defined() ? sum + part : part;
                }
                mean_z[static_cast<size_t>(l)] = (sum / count).to(torch::kFloat);
            }
            mean_note = opt.final_only ? "mean of the final position's z"
                        : per_position ? "per-position mean z (all prompts have the same length)"
                                       : "mean z over every position (the prompts differ in length)";
            if (N == 1) mean_note += "; with one prompt the mean is the prompt itself, so the effect is 0 — use zero or resample";
        }
        std::vector<std::vector<double>> per_prompt;
        for (size_t i = 0; i < N; ++i) {
            progress(i, "ablation");
            if (opt.ablation == "resample" && !has_corrupted[i]) continue;
            LayerSource source;
            CachedRun corr;
            if (opt.ablation == "zero") {
                torch::Tensor zeros = torch::zeros({1, 1, H, cfg.d_head});
                source = [zeros](int) { return zeros; };
            } else if (opt.ablation == "mean") {
                source = [&mean_z](int l) { return mean_z[static_cast<size_t>(l)]; };
            } else {
                torch::NoGradGuard no_grad;
                corr = model.run_with_cache(ctx.corrupted_tokens(i), {"blocks.*.attn.hook_z"});
                source = [&corr, &opt](int l) { return for_patch(corr.cache.at(z_name(l)), opt.final_only); };
            }
            std::vector<double> m = patch_each_head(model, ctx.tokens(i), source, opt.final_only, opt.metric, targets[i], cancel);
            for (double& v : m) v -= clean[i];
            per_prompt.push_back(std::move(m));
        }
        if (per_prompt.empty()) {
            result.summary.push_back("ablation skipped: resample ablation needs prompts with a corrupted_prompt");
        } else {
            std::vector<double> mean = mean_rows(per_prompt);
            result.items.push_back(make_grid(
                "ablation_effect", "Ablation effect",
                fmt::format("Change of {} when the head's z is {}-ablated {} ({}); mean over {} prompt(s). Negative: the "
                            "head supports the metric.",
                            metric_text, opt.ablation, where,
                            opt.ablation == "zero"   ? "z := 0"
                            : opt.ablation == "mean" ? mean_note
                                                     : "z := the corrupted prompt's z",
                            per_prompt.size()),
                L, H, mean));
            result.summary.push_back(fmt::format("{} ablation {}: {}", opt.ablation, where, top_heads_text(mean, H, 3)));
            if (!mean_note.empty()) result.summary.push_back("mean ablation uses the " + mean_note);
            scores.push_back({opt.ablation + "_ablation", mean});
        }
        ++part_index;
    }

    // (c) Attribution patching.
    if (opt.parts.count("attribution_patching")) {
        std::vector<std::vector<double>> per_prompt;
        for (size_t i = 0; i < N; ++i) {
            progress(i, "attribution patching");
            if (!has_corrupted[i]) continue;
            std::vector<torch::Tensor> clean_z;
            for (int l = 0; l < L; ++l) clean_z.push_back(ctx.clean_run(i).cache.at(z_name(l)));
            AttributionPrompt a =
                attribution_patching(model, ctx.corrupted_tokens(i), clean_z, opt.final_only, opt.metric, targets[i]);
            per_prompt.push_back(std::move(a.heads));
        }
        if (per_prompt.empty()) {
            result.summary.push_back("attribution patching skipped: no prompt has a usable corrupted_prompt");
        } else {
            attr_mean = mean_rows(per_prompt);
            result.items.push_back(make_grid(
                "attribution_patching", "Attribution patching",
                fmt::format("Gradient estimate of the change of {} when the head's clean z is patched into the corrupted "
                            "run {}: ∂metric/∂z at the corrupted run · (z_clean − z_corrupted), summed over the head's "
                            "dimensions; mean over {} prompt(s).",
                            metric_text, where, per_prompt.size()),
                L, H, attr_mean));
            result.summary.push_back(fmt::format("attribution patching {}: {}", where, top_heads_text(attr_mean, H, 3)));
            scores.push_back({"attribution_patching", attr_mean});
        }
        ++part_index;
    }

    // (d) Activation patching clean -> corrupted.
    if (opt.parts.count("activation_patching")) {
        std::vector<std::vector<double>> per_prompt;
        double gap = 0;
        for (size_t i = 0; i < N; ++i) {
            progress(i, "activation patching");
            if (!has_corrupted[i]) continue;
            const CachedRun& run = ctx.clean_run(i);
            LayerSource source = [&run, &opt](int l) { return for_patch(run.cache.at(z_name(l)), opt.final_only); };
            std::vector<double> m =
                patch_each_head(model, ctx.corrupted_tokens(i), source, opt.final_only, opt.metric, targets[i], cancel);
            for (double& v : m) v -= corrupted[i];
            per_prompt.push_back(std::move(m));
            gap += clean[i] - corrupted[i];
        }
        if (per_prompt.empty()) {
            result.summary.push_back("activation patching skipped: no prompt has a usable corrupted_prompt");
        } else {
            act_mean = mean_rows(per_prompt);
            gap /= static_cast<double>(per_prompt.size());
            result.items.push_back(make_grid(
                "activation_patching", "Activation patching",
                fmt::format("Change of {} when the head's clean z is patched into the corrupted run {}: metric(patched) − "
                            "metric(corrupted); mean over {} prompt(s).",
                            metric_text, where, per_prompt.size()),
                L, H, act_mean));
            if (std::abs(gap) > 1e-6) {
                std::vector<double> recovery = act_mean;
                for (double& v : recovery) v /= gap;
                result.items.push_back(make_grid(
                    "activation_patching_recovery", "Activation patching (fraction of the gap)",
                    fmt::format("Activation patching divided by the mean clean − corrupted gap of {} ({:.4g}): 1 means the "
                                "head alone restores the clean metric.",
                                metric_text, gap),
                    L, H, recovery));
            }
            result.summary.push_back(fmt::format("activation patching {}: {} (clean − corrupted gap {:.4g})", where,
                                                 top_heads_text(act_mean, H, 3), gap));
            scores.push_back({"activation_patching", act_mean});
        }
        ++part_index;
    }

    if (!attr_mean.empty() && !act_mean.empty()) {
        const double rho = spearman(attr_mean, act_mean);
        std::vector<double> abs_attr, abs_act;
        for (double v : attr_mean) abs_attr.push_back(std::abs(v));
        for (double v : act_mean) abs_act.push_back(std::abs(v));
        Table t;
        t.key = "patching_agreement";
        t.title = "Attribution patching vs activation patching";
        t.description = "Rank (Spearman) and linear (Pearson) correlation between the two per-head estimates, over all heads.";
        t.columns = {"statistic", "value"};
        t.rows.push_back({std::string("spearman"), rho});
        t.rows.push_back({std::string("spearman_abs"), spearman(abs_attr, abs_act)});
        t.rows.push_back({std::string("pearson"), pearson(attr_mean, act_mean)});
        t.rows.push_back({std::string("heads"), static_cast<int64_t>(attr_mean.size())});
        result.items.push_back(std::move(t));
        result.summary.push_back(fmt::format("attribution vs activation patching: Spearman rho {:.3f} over {} heads", rho,
                                             attr_mean.size()));
    }

    if (!scores.empty()) {
        size_t primary = scores.size() - 1;  // the most causal score computed
        result.items.push_back(top_heads_table(scores, primary, H, opt.top_k));
    }

    Table prompts;
    prompts.key = "per_prompt";
    prompts.title = "Prompts";
    prompts.description = fmt::format("The metric ({}) of each prompt's clean and corrupted run.", metric_text);
    prompts.columns = {"prompt", "text", "answer", "alternative", "clean", "corrupted"};
    for (size_t i = 0; i < N; ++i) {
        const Target& t = targets[i];
        prompts.rows.push_back({static_cast<int64_t>(i), ctx.prompts[i].example.prompt,
                                token_label(ctx.tokenizer, t.answer),
                                t.alternative >= 0 ? token_label(ctx.tokenizer, t.alternative) : std::string(),
                                clean[i], corrupted[i]});
    }
    result.items.push_back(std::move(prompts));
    ctx.step(1.0, "done");
    return result;
}

}  // namespace

void register_head_attribution(AnalysisRegistry& registry) {
    registry.add([] { return std::make_unique<HeadAttribution>(); });
}

}  // namespace headscope
