// head_attribution: which heads matter for a metric (the answer's logit, the logit difference
// answer − alternative, or the loss) at the final position, four ways:
//   dla                   direct logit attribution through the final norm (scale frozen)
//   ablation              change of the metric when a head is zero/mean/resample-ablated
//   attribution_patching  gradient estimate of clean→corrupted patching, one fwd+bwd per prompt
//   activation_patching   change of the corrupted run's metric when a head's clean z is patched in
#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
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
            ParamSpec::choice("metric", "logit_diff", {"answer_logit", "logit_diff", "loss", "kl", "accuracy"},
                              "answer_logit, logit_diff (answer - alternative), loss (-log p(answer)), kl (KL(clean || "
                              "edited) of the next-token distribution) or accuracy (answer is the argmax), at the final "
                              "position; dla and attribution_patching need answer_logit, logit_diff or loss"),
            ParamSpec::text("parts", "dla,ablation,attribution_patching,activation_patching",
                            "comma-separated parts to compute: dla, ablation, attribution_patching, activation_patching (or all)"),
            ParamSpec::choice("ablation", "mean", {"zero", "mean", "resample", "uniform"},
                              "zero, mean (over the prompt set), resample (the corrupted prompt's z) or uniform (the "
                              "head's attention made uniform over its causal window)"),
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

// State shared by the parts of one run.
struct Run {
    AnalysisContext& ctx;
    Options opt;
    int L = 0, H = 0;
    size_t N = 0;
    std::string metric_text, where;
    std::vector<Target> targets;
    std::vector<double> clean, corrupted;
    std::vector<bool> has_corrupted;
    bool needs_corrupted = false;
    Result result;
    std::vector<NamedScores> scores;
    std::vector<double> attr_mean, act_mean;
    double part_index = 0;

    Run(AnalysisContext& c, Options o) : ctx(c), opt(std::move(o)) {}
    void progress(size_t i, const std::string& what) {
        ctx.step(0.05 + 0.95 * (part_index + static_cast<double>(i) / static_cast<double>(N)) /
                            static_cast<double>(opt.parts.size()),
                 fmt::format("{} {}/{}", what, i + 1, N));
    }
    std::function<void()> cancel() {
        return [this] { ctx.check_cancelled(); };
    }
};

// Targets, clean metrics, corrupted metrics (only when a chosen part needs them), summary lines.
void prepare(Run& r) {
    AnalysisContext& ctx = r.ctx;
    const Options& opt = r.opt;
    const size_t N = r.N;
    r.targets.resize(N);
    r.clean.assign(N, 0.0);
    r.corrupted.assign(N, std::nan(""));
    r.has_corrupted.assign(N, false);
    size_t answers_from_model = 0, alternatives_from_model = 0, corrupted_usable = 0, corrupted_given = 0;
    ctx.step(0.0, "clean runs");
    ctx.final_position_logits_only();  // every part scores the next token only
    std::vector<size_t> all(N);
    for (size_t i = 0; i < N; ++i) all[i] = i;
    ctx.prefetch_clean_runs(all);
    for (size_t i = 0; i < N; ++i) {
        ctx.step(0.05 * static_cast<double>(i) / static_cast<double>(N), "clean runs");
        const CachedRun& run = ctx.clean_run(i);
        r.targets[i] = resolve_target(ctx.prompts[i], run.logits[0][-1], opt.metric);
        answers_from_model += r.targets[i].answer_from_model;
        alternatives_from_model += r.targets[i].alternative_from_model;
        r.clean[i] = metric_value(run.logits, opt.metric, r.targets[i]);
        const auto& p = ctx.prompts[i];
        corrupted_given += !p.corrupted_ids.empty();
        r.has_corrupted[i] = !p.corrupted_ids.empty() && (opt.final_only || p.corrupted_ids.size() == p.ids.size());
        corrupted_usable += r.has_corrupted[i];
    }
    r.needs_corrupted = opt.parts.count("attribution_patching") || opt.parts.count("activation_patching") ||
                        (opt.parts.count("ablation") && opt.ablation == "resample");
    double mean_clean = 0, mean_corr = 0;
    for (size_t i = 0; i < N; ++i) mean_clean += r.clean[i] / static_cast<double>(N);
    if (r.needs_corrupted) {
        // Corrupted prompts of equal length share a forward (next-token logits only), up to
        // ~4096 tokens at a time.
        torch::NoGradGuard no_grad;
        std::map<int64_t, std::vector<size_t>> by_length;
        for (size_t i = 0; i < N; ++i)
            if (r.has_corrupted[i]) by_length[static_cast<int64_t>(ctx.prompts[i].corrupted_ids.size())].push_back(i);
        for (const auto& [T, members] : by_length) {
            const size_t per_batch = static_cast<size_t>(std::max<int64_t>(1, 4096 / std::max<int64_t>(T, 1)));
            for (size_t start = 0; start < members.size(); start += per_batch) {
                ctx.check_cancelled();
                const size_t end = std::min(members.size(), start + per_batch);
                std::vector<torch::Tensor> rows;
                for (size_t j = start; j < end; ++j) rows.push_back(ctx.corrupted_tokens(members[j]));
                const torch::Tensor logits = ctx.model.forward(torch::cat(rows, 0), {-1});  // [B, 1, V]
                for (size_t j = start; j < end; ++j) {
                    const size_t i = members[j];
                    r.corrupted[i] = metric_value(logits.narrow(0, static_cast<int64_t>(j - start), 1), opt.metric, r.targets[i]);
                    mean_corr += r.corrupted[i] / static_cast<double>(corrupted_usable);
                }
            }
        }
    }
    // The corrupted runs' mean only where they were run (parts that need no corrupted prompt skip them).
    r.result.summary.push_back(fmt::format("metric: {} at the final position; mean {:.4g} over {} prompt(s){}", r.metric_text,
                                           mean_clean, N,
                                           r.needs_corrupted && corrupted_usable
                                               ? fmt::format(", {:.4g} on their corrupted prompts", mean_corr)
                                               : ""));
    if (answers_from_model)
        r.result.summary.push_back(fmt::format("{} prompt(s) have no answer token: the clean run's top token is used", answers_from_model));
    if (alternatives_from_model)
        r.result.summary.push_back(fmt::format("{} prompt(s) have no usable alternative: the clean run's best other token is used",
                                               alternatives_from_model));
    if (r.needs_corrupted && corrupted_usable < N) {
        const size_t wrong_length = corrupted_given - corrupted_usable;
        r.result.summary.push_back(fmt::format(
            "{} of {} prompt(s) lack a corrupted prompt{}; parts that need one skip them", N - corrupted_usable, N,
            wrong_length ? fmt::format(" ({} have one of another token length, usable only with position=final)", wrong_length) : ""));
    }
}

// (a) Direct logit attribution.
void run_dla(Run& r) {
    if (!differentiable(r.opt.metric)) {
        r.result.summary.push_back(fmt::format("DLA skipped: {} is not linear in the logits", r.metric_text));
        return;
    }
    AnalysisContext& ctx = r.ctx;
    const size_t N = r.N;
    std::vector<std::vector<double>> per_prompt;
    std::vector<std::vector<double>> components;
    std::vector<std::string> names;
    double constant = 0, linear = 0, max_error = 0;
    for (size_t i = 0; i < N; ++i) {
        r.progress(i, "direct logit attribution");
        const CachedRun& run = ctx.clean_run(i);
        DlaPrompt d = direct_logit_attribution(ctx.model, run, vocab_direction(run.logits[0][-1], r.opt.metric, r.targets[i]));
        per_prompt.push_back(d.heads);
        std::vector<double> comp;
        names.clear();
        for (const auto& c : d.components) names.push_back(c.name), comp.push_back(c.value);
        components.push_back(comp);
        constant += d.constant / static_cast<double>(N);
        linear += d.metric_linear / static_cast<double>(N);
        max_error = std::max(max_error, d.error);
    }
    const std::vector<double> dla_mean = mean_rows(per_prompt);
    r.result.items.push_back(make_grid(
        "dla_heads", "Direct logit attribution",
        fmt::format("Each head's direct contribution to {} at the final position: z·W_O through the final norm with its "
                    "scale frozen from the run, projected on the unembedding{}; mean over {} prompt(s).",
                    r.metric_text, r.opt.metric == MetricKind::loss ? " (the loss linearised at the run: W_U·(softmax − e_answer))" : "",
                    N),
        r.L, r.H, dla_mean));
    Table t;
    t.key = "dla_components";
    t.title = "Direct logit attribution of the other components";
    t.description = "Embeddings, MLPs (without b_out) and all attention/MLP biases; with the heads and the constant "
                    "(final-norm bias, b_U) they add up to the metric (linearised for the loss). Norm scales, including "
                    "attention output norms (Gemma-2/3, OLMo-2), are frozen from the run; with a final logit soft cap "
                    "(Gemma-2) the decomposition is of the uncapped logits, cap * atanh(logit / cap).";
    t.columns = {"component", "mean_contribution"};
    std::vector<double> comp_mean = mean_rows(components);
    double heads_sum = 0;
    for (double v : dla_mean) heads_sum += v;
    for (size_t c = 0; c < names.size(); ++c) t.rows.push_back({names[c], comp_mean[c]});
    t.rows.push_back({std::string("all heads"), heads_sum});
    t.rows.push_back({std::string("constant (norm bias, b_U)"), constant});
    t.rows.push_back({std::string("total = metric"), linear});
    r.result.items.push_back(std::move(t));
    r.result.summary.push_back(fmt::format("DLA: {} (components sum to the metric within {:.2g})",
                                           top_heads_text(dla_mean, r.H, 3), max_error));
    r.scores.push_back({"dla", dla_mean});
}

// Mean z per layer for mean ablation, and the note saying which mean.
std::vector<torch::Tensor> mean_z_per_layer(Run& r, std::string& note) {
    AnalysisContext& ctx = r.ctx;
    const bool final_only = r.opt.final_only;
    bool same_length = true;
    for (size_t i = 0; i < r.N; ++i) same_length &= ctx.prompts[i].ids.size() == ctx.prompts[0].ids.size();
    const bool per_position = !final_only && same_length;
    std::vector<torch::Tensor> mean_z(static_cast<size_t>(r.L));
    for (int l = 0; l < r.L; ++l) {
        torch::Tensor sum;
        double count = 0;
        for (size_t i = 0; i < r.N; ++i) {
            torch::Tensor z = ctx.clean_run(i).cache.at(z_name(l)).to(torch::kDouble);  // [1, T, H, dh]
            torch::Tensor part = final_only ? z.select(1, -1).unsqueeze(1) : per_position ? z : z.sum(1, true);
            count += final_only || per_position ? 1.0 : static_cast<double>(z.size(1));
            sum = sum.defined() ? sum + part : part;
        }
        mean_z[static_cast<size_t>(l)] = (sum / count).to(torch::kFloat);
    }
    note = final_only     ? "mean of the final position's z"
           : per_position ? "per-position mean z (all prompts have the same length)"
                          : "mean z over every position (the prompts differ in length)";
    if (r.N == 1) note += "; with one prompt the mean is the prompt itself, so the effect is 0 — use zero or resample";
    return mean_z;
}

// (b) Ablation.
void run_ablation(Run& r) {
    AnalysisContext& ctx = r.ctx;
    const Options& opt = r.opt;
    std::vector<torch::Tensor> mean_z;
    std::string mean_note;
    if (opt.ablation == "mean") mean_z = mean_z_per_layer(r, mean_note);
    std::vector<std::vector<double>> per_prompt, flips;
    for (size_t i = 0; i < r.N; ++i) {
        r.progress(i, "ablation");
        if (opt.ablation == "resample" && !r.has_corrupted[i]) continue;
        SweepEdit edit;
        CachedRun corr;
        if (opt.ablation == "zero") {
            edit = SweepEdit::zero(opt.final_only);
        } else if (opt.ablation == "uniform") {
            edit = SweepEdit::pattern(PatternTarget::uniform, 1.0);
        } else if (opt.ablation == "mean") {
            edit = SweepEdit::set([&mean_z](int l) { return mean_z[static_cast<size_t>(l)]; }, opt.final_only);
        } else {
            torch::NoGradGuard no_grad;
            corr = ctx.model.run_with_cache(ctx.corrupted_tokens(i), {"blocks.*.attn.hook_z"});
            edit = SweepEdit::set([&corr, &opt](int l) { return for_patch(corr.cache.at(z_name(l)), opt.final_only); },
                                  opt.final_only);
        }
        HeadRuns runs = edit_each_head(ctx.model, ctx.tokens(i), edit, opt.metric, r.targets[i], r.cancel());
        for (double& v : runs.metric) v -= r.clean[i];
        per_prompt.push_back(std::move(runs.metric));
        if (r.targets[i].alternative >= 0) {
            std::vector<double> f;
            for (int64_t t : runs.top1) f.push_back(t == r.targets[i].alternative ? 1.0 : 0.0);
            flips.push_back(std::move(f));
        }
    }
    if (per_prompt.empty()) {
        r.result.summary.push_back("ablation skipped: resample ablation needs prompts with a corrupted_prompt");
        return;
    }
    const std::string how = opt.ablation == "zero"      ? "z := 0"
                            : opt.ablation == "mean"    ? mean_note
                            : opt.ablation == "uniform" ? "its attention made uniform over the causal window, at every query"
                                                        : "z := the corrupted prompt's z";
    std::vector<double> mean = mean_rows(per_prompt);
    r.result.items.push_back(make_grid(
        "ablation_effect", "Ablation effect",
        fmt::format("Change of {} when the head is {}-ablated {} ({}); mean over {} prompt(s). Negative: the head supports "
                    "the metric.",
                    r.metric_text, opt.ablation, opt.ablation == "uniform" ? "" : r.where, how, per_prompt.size()),
        r.L, r.H, mean));
    r.result.summary.push_back(fmt::format("{} ablation {}: {}", opt.ablation, r.where, top_heads_text(mean, r.H, 3)));
    if (!mean_note.empty()) r.result.summary.push_back("mean ablation uses the " + mean_note);
    if (!flips.empty()) {
        std::vector<double> rate = mean_rows(flips);
        r.result.items.push_back(make_grid("ablation_flip_rate", "Answer flips to the alternative",
                                           fmt::format("Fraction of {} prompt(s) whose top next token becomes the alternative "
                                                       "when the head is {}-ablated.",
                                                       flips.size(), opt.ablation),
                                           r.L, r.H, rate, Scale::sequential));
        const size_t best = order_by_magnitude(rate).front();
        r.result.summary.push_back(
            fmt::format("answer flips to the alternative under {} ablation: most often for {} ({:.0f} of {} prompt(s)); "
                        "{:.3g} of prompts on average over heads",
                        opt.ablation, head_label(static_cast<int>(best) / r.H, static_cast<int>(best) % r.H),
                        rate[best] * static_cast<double>(flips.size()), flips.size(),
                        std::accumulate(rate.begin(), rate.end(), 0.0) / static_cast<double>(rate.size())));
    }
    r.scores.push_back({opt.ablation + "_ablation", mean});
}

// (c) Attribution patching.
void run_attribution_patching(Run& r) {
    if (!differentiable(r.opt.metric)) {
        r.result.summary.push_back(fmt::format("attribution patching skipped: {} is not differentiable", r.metric_text));
        return;
    }
    AnalysisContext& ctx = r.ctx;
    // Prompts whose corrupted runs have the same length (and, patching every position, clean runs
    // too) share one batched forward + backward, up to kBatchTokens tokens at a time.
    constexpr int64_t kBatchTokens = 4096;
    std::map<std::pair<int64_t, int64_t>, std::vector<size_t>> groups;
    for (size_t i = 0; i < r.N; ++i) {
        if (!r.has_corrupted[i]) continue;
        const int64_t T = ctx.corrupted_tokens(i).size(-1);
        groups[{T, r.opt.final_only ? 0 : ctx.clean_run(i).cache.at(z_name(0)).size(1)}].push_back(i);
    }
    std::vector<std::vector<double>> per_prompt;
    size_t done = 0;
    for (const auto& [shape, members] : groups) {
        const size_t per_batch = static_cast<size_t>(std::max<int64_t>(1, kBatchTokens / shape.first));
        for (size_t start = 0; start < members.size(); start += per_batch) {
            r.progress(done, "attribution patching");
            const size_t end = std::min(members.size(), start + per_batch);
            std::vector<torch::Tensor> tokens;
            std::vector<Target> targets;
            std::vector<std::vector<torch::Tensor>> z_parts(static_cast<size_t>(r.L));
            for (size_t j = start; j < end; ++j) {
                const size_t i = members[j];
                tokens.push_back(ctx.corrupted_tokens(i).reshape({1, -1}));
                targets.push_back(r.targets[i]);
                for (int l = 0; l < r.L; ++l) {
                    const torch::Tensor& z = ctx.clean_run(i).cache.at(z_name(l));  // [1, T, H, dh]
                    z_parts[static_cast<size_t>(l)].push_back(r.opt.final_only ? z.select(1, -1) : z);
                }
            }
            std::vector<torch::Tensor> clean_z;
            for (auto& parts : z_parts) clean_z.push_back(torch::cat(parts, 0));
            for (AttributionPrompt& a : attribution_patching(ctx.model, torch::cat(tokens, 0), clean_z, r.opt.final_only,
                                                             r.opt.metric, targets))
                per_prompt.push_back(std::move(a.heads));
            done += end - start;
        }
    }
    if (per_prompt.empty()) {
        r.result.summary.push_back("attribution patching skipped: no prompt has a usable corrupted_prompt");
        return;
    }
    r.attr_mean = mean_rows(per_prompt);
    r.result.items.push_back(make_grid(
        "attribution_patching", "Attribution patching",
        fmt::format("Gradient estimate of the change of {} when the head's clean z is patched into the corrupted "
                    "run {}: ∂metric/∂z at the corrupted run · (z_clean − z_corrupted), summed over the head's "
                    "dimensions; mean over {} prompt(s).",
                    r.metric_text, r.where, per_prompt.size()),
        r.L, r.H, r.attr_mean));
    r.result.summary.push_back(fmt::format("attribution patching {}: {}", r.where, top_heads_text(r.attr_mean, r.H, 3)));
    r.scores.push_back({"attribution_patching", r.attr_mean});
}

// (d) Activation patching clean -> corrupted.
void run_activation_patching(Run& r) {
    AnalysisContext& ctx = r.ctx;
    const Options& opt = r.opt;
    std::vector<std::vector<double>> per_prompt;
    double gap = 0;
    for (size_t i = 0; i < r.N; ++i) {
        r.progress(i, "activation patching");
        if (!r.has_corrupted[i]) continue;
        const CachedRun& run = ctx.clean_run(i);
        SweepEdit edit =
            SweepEdit::set([&run, &opt](int l) { return for_patch(run.cache.at(z_name(l)), opt.final_only); }, opt.final_only);
        HeadRuns runs = edit_each_head(ctx.model, ctx.corrupted_tokens(i), edit, opt.metric, r.targets[i], r.cancel());
        for (double& v : runs.metric) v -= r.corrupted[i];
        per_prompt.push_back(std::move(runs.metric));
        gap += r.clean[i] - r.corrupted[i];
    }
    if (per_prompt.empty()) {
        r.result.summary.push_back("activation patching skipped: no prompt has a usable corrupted_prompt");
        return;
    }
    r.act_mean = mean_rows(per_prompt);
    gap /= static_cast<double>(per_prompt.size());
    r.result.items.push_back(make_grid(
        "activation_patching", "Activation patching",
        fmt::format("Change of {} when the head's clean z is patched into the corrupted run {}: metric(patched) − "
                    "metric(corrupted); mean over {} prompt(s).",
                    r.metric_text, r.where, per_prompt.size()),
        r.L, r.H, r.act_mean));
    if (std::abs(gap) > 1e-6) {
        std::vector<double> recovery = r.act_mean;
        for (double& v : recovery) v /= gap;
        r.result.items.push_back(make_grid(
            "activation_patching_recovery", "Activation patching (fraction of the gap)",
            fmt::format("Activation patching divided by the mean clean − corrupted gap of {} ({:.4g}): 1 means the "
                        "head alone restores the clean metric.",
                        r.metric_text, gap),
            r.L, r.H, recovery));
    }
    r.result.summary.push_back(fmt::format("activation patching {}: {} (clean − corrupted gap {:.4g})", r.where,
                                           top_heads_text(r.act_mean, r.H, 3), gap));
    r.scores.push_back({"activation_patching", r.act_mean});
}

// Agreement of attribution and activation patching, when both ran.
void add_agreement(Run& r) {
    if (r.attr_mean.empty() || r.act_mean.empty()) return;
    const double rho = spearman(r.attr_mean, r.act_mean);
    std::vector<double> abs_attr, abs_act;
    for (double v : r.attr_mean) abs_attr.push_back(std::abs(v));
    for (double v : r.act_mean) abs_act.push_back(std::abs(v));
    Table t;
    t.key = "patching_agreement";
    t.title = "Attribution patching vs activation patching";
    t.description = "Rank (Spearman) and linear (Pearson) correlation between the two per-head estimates, over all heads.";
    t.columns = {"statistic", "value"};
    t.rows.push_back({std::string("spearman"), rho});
    t.rows.push_back({std::string("spearman_abs"), spearman(abs_attr, abs_act)});
    t.rows.push_back({std::string("pearson"), pearson(r.attr_mean, r.act_mean)});
    t.rows.push_back({std::string("heads"), static_cast<int64_t>(r.attr_mean.size())});
    r.result.items.push_back(std::move(t));
    r.result.summary.push_back(fmt::format("attribution vs activation patching: Spearman rho {:.3f} over {} heads", rho,
                                           r.attr_mean.size()));
}

// The metric of each prompt's clean and corrupted run (corrupted: NaN where not run).
void add_prompt_table(Run& r) {
    Table prompts;
    prompts.key = "per_prompt";
    prompts.title = "Prompts";
    prompts.description = fmt::format("The metric ({}) of each prompt's clean and corrupted run.", r.metric_text);
    prompts.columns = {"prompt", "text", "answer", "alternative", "clean", "corrupted"};
    for (size_t i = 0; i < r.N; ++i) {
        const Target& t = r.targets[i];
        prompts.rows.push_back({static_cast<int64_t>(i), r.ctx.prompts[i].example.prompt,
                                token_label(r.ctx.tokenizer, t.answer),
                                t.alternative >= 0 ? token_label(r.ctx.tokenizer, t.alternative) : std::string(),
                                r.clean[i], r.corrupted[i]});
    }
    r.result.items.push_back(std::move(prompts));
}

Result HeadAttribution::run(AnalysisContext& ctx) {
    Run r(ctx, read_options(ctx.params));
    r.L = ctx.config().n_layers;
    r.H = ctx.config().n_heads;
    r.N = ctx.prompts.size();
    r.metric_text = describe(r.opt.metric);
    r.where = r.opt.final_only ? "at the final position" : "at every position";
    prepare(r);
    using Part = void (*)(Run&);
    const std::pair<const char*, Part> parts[] = {{"dla", run_dla},
                                                  {"ablation", run_ablation},
                                                  {"attribution_patching", run_attribution_patching},
                                                  {"activation_patching", run_activation_patching}};
    for (const auto& [name, part] : parts) {
        if (!r.opt.parts.count(name)) continue;
        part(r);
        ++r.part_index;
    }
    add_agreement(r);
    if (!r.scores.empty()) r.result.items.push_back(top_heads_table(r.scores, r.scores.size() - 1, r.H, r.opt.top_k));
    add_prompt_table(r);
    double mean_clean = 0, gap = 0;
    size_t gaps = 0;
    for (size_t i = 0; i < r.N; ++i) {
        mean_clean += r.clean[i] / static_cast<double>(r.N);
        if (r.has_corrupted[i] && std::isfinite(r.corrupted[i])) gap += r.clean[i] - r.corrupted[i], ++gaps;
    }
    add_findings(r.result, r.metric_text, r.opt.metric == MetricKind::logit_diff || r.opt.metric == MetricKind::answer_logit,
                 r.opt.ablation, mean_clean, r.N, gaps ? gap / static_cast<double>(gaps) : 0.0);
    ctx.step(1.0, "done");
    return std::move(r.result);
}

}  // namespace

void register_head_attribution(AnalysisRegistry& registry) {
    registry.add([] { return std::make_unique<HeadAttribution>(); });
}

}  // namespace headscope
