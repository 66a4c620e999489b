// head_search: greedy (or beam) search for the set of heads whose joint edit best serves an
// objective — the KL of the next-token distribution, a drop or rise of the logit difference, of
// the accuracy or of the loss — under one edit (zero, mean, uniform, identity@α, scale:s, ...).
// Each step tries every remaining head on top of the heads chosen so far through HeadSweep (the
// chosen edits' residual stream cached once per step, only layers >= the candidate's re-run).
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

#include "head_attribution/attribution_metric.hpp"
#include "headscope/head_sweep.hpp"
#include "headscope/hook_names.hpp"
#include "headscope/interventions.hpp"
#include "headscope/sdk/analysis.hpp"

namespace headscope {

namespace {
using attribution::MetricKind;
using attribution::Target;

struct Objective {
    std::string name;
    MetricKind metric;
    double sign;  // objective = sign · (metric(edited) − metric(clean))
    const char* text;
};
const Objective kObjectives[] = {
    {"kl", MetricKind::kl, 1.0, "KL(clean || edited) of the next-token distribution"},
    {"logit_diff_drop", MetricKind::logit_diff, -1.0, "drop of the logit difference answer − alternative"},
    {"logit_diff_rise", MetricKind::logit_diff, 1.0, "rise of the logit difference answer − alternative"},
    {"accuracy", MetricKind::accuracy, -1.0, "drop of the accuracy (answer is the top token)"},
    {"accuracy_rise", MetricKind::accuracy, 1.0, "rise of the accuracy (answer is the top token)"},
    {"loss", MetricKind::loss, 1.0, "rise of the loss −log p(answer)"},
    {"loss_drop", MetricKind::loss, -1.0, "drop of the loss −log p(answer)"},
};

const Objective& find_objective(const std::string& name) {
    for (const auto& o : kObjectives)
        if (o.name == name) return o;
    throw UsageError("head_search.objective: unknown objective '" + name + "'");
}

// The edit every chosen head gets: zero, mean (the prompt set's mean z) or one of the
// --intervene edits (scale:F, pattern:TARGET[@α]; uniform / identity / previous[@α] for short).
struct SearchEdit {
    bool mean = false;
    HeadEdit edit;  // head unused
};

SearchEdit parse_search_edit(const std::string& text) {
    SearchEdit e;
    if (text == "mean") {
        e.mean = true;
        return e;
    }
    std::string spec = text;
    for (const char* t : {"uniform", "identity", "previous"})
        if (spec.rfind(t, 0) == 0) spec = "pattern:" + spec;
    try {
        e.edit = parse_edit(HeadRef{}, spec);
    } catch (const UsageError& err) {
        throw UsageError(fmt::format("head_search.edit '{}': {} (expected zero, mean, scale:F, uniform[@A], identity[@A], "
                                     "previous[@A] or pattern:TARGET[@A])",
                                     text, err.what()));
    }
    if (e.edit.kind == EditKind::channel || e.edit.kind == EditKind::drop_sink)
        throw UsageError(fmt::format("head_search.edit '{}': channel and drop_sink edits are not searched yet; use zero, "
                                     "mean, scale:F or a pattern edit",
                                     text));
    if (e.edit.kind == EditKind::pattern && e.edit.target == PatternTarget::head)
        throw UsageError("head_search.edit: pattern:head edits are not searched (each head would need its own source)");
    return e;
}

std::string edit_name(const SearchEdit& e) {
    if (e.mean) return "mean";
    std::string s = to_string(e.edit);
    return s.substr(s.find('=') + 1);
}

struct Group {  // prompts of one token length, run together
    std::vector<size_t> members;
    torch::Tensor tokens;  // [n, T]
};

class HeadSearch : public Analysis {
public:
    std::string id() const override { return "head_search"; }
    std::string title() const override { return "Head search"; }
    std::string version() const override { return "1.0"; }
    std::string description() const override {
        return "Greedy or beam search for the heads whose joint edit (zero, mean, uniform, identity@α, scale:s) most "
               "changes an objective (KL, logit difference, accuracy or loss) on the prompts; each step's chosen head "
               "and objective.";
    }
    std::vector<ParamSpec> parameters() const override {
        std::vector<std::string> objectives;
        for (const auto& o : kObjectives) objectives.push_back(o.name);
        return {
            ParamSpec::choice("objective", "kl", objectives,
                              "what the edit should maximise: kl, logit_diff_drop, logit_diff_rise, accuracy (its drop), "
                              "accuracy_rise, loss (its rise) or loss_drop, at the final position, mean over the prompts"),
            ParamSpec::text("edit", "zero", "the edit of every chosen head: zero, mean, scale:F, uniform[@A], identity[@A], "
                                            "previous[@A]"),
            ParamSpec::integer("k", 5, "the largest head set", 1, 1000),
            ParamSpec::integer("beam", 1, "beam width (1 = greedy)", 1, 64),
            ParamSpec::real("min_gain", 0.0, "stop when a step improves the objective by no more than this"),
            ParamSpec::heads("candidates", "", "heads to choose from (empty: every head)"),
        };
    }
    std::vector<std::string> hooks(const ModelConfig&, const ParamValues& params) const override {
        if (params.get_text("edit") == "mean") return {"blocks.*.attn.hook_z"};
        return {};
    }
    Result run(AnalysisContext& ctx) override;
};

Result HeadSearch::run(AnalysisContext& ctx) {
    const ModelConfig& cfg = ctx.config();
    const Objective& objective = find_objective(ctx.params.get_text("objective"));
    const SearchEdit edit = parse_search_edit(ctx.params.get_text("edit"));
    const size_t k = static_cast<size_t>(ctx.params.get_int("k"));
    const size_t beam_width = static_cast<size_t>(ctx.params.get_int("beam"));
    const double min_gain = ctx.params.get_real("min_gain");
    std::vector<HeadRef> candidates = ctx.params.get_heads("candidates");
    if (candidates.empty())
        for (int l = 0; l < cfg.n_layers; ++l)
            for (int h = 0; h < cfg.n_heads; ++h) candidates.push_back({l, h});
    for (const auto& h : candidates)
        if (h.layer < 0 || h.layer >= cfg.n_layers || h.head < 0 || h.head >= cfg.n_heads)
            throw UsageError(fmt::format("head_search.candidates: head {} does not exist", head_label(h)));
    const size_t N = ctx.prompts.size();

    // Clean targets and metrics; prompts grouped by length.
    std::vector<Target> targets(N);
    std::vector<double> clean(N);
    std::map<size_t, Group> groups;
    std::vector<size_t> all(N);
    for (size_t i = 0; i < N; ++i) all[i] = i;
    ctx.final_position_logits_only();  // the objectives score the next token only
    ctx.prefetch_clean_runs(all);
    for (size_t i = 0; i < N; ++i) {
        const CachedRun& run = ctx.clean_run(i);
        targets[i] = attribution::resolve_target(ctx.prompts[i], run.logits[0][-1], objective.metric);
        clean[i] = attribution::metric_value(run.logits, objective.metric, targets[i]);
        groups[ctx.prompts[i].ids.size()].members.push_back(i);
    }
    for (auto& [len, g] : groups) {
        std::vector<torch::Tensor> rows;
        for (size_t i : g.members) rows.push_back(ctx.tokens(i));
        g.tokens = torch::cat(rows, 0);
    }
    // Mean z per layer over every prompt and position (mean edit).
    std::vector<torch::Tensor> mean_z;
    if (edit.mean) {
        for (int l = 0; l < cfg.n_layers; ++l) {
            torch::Tensor sum;
            double count = 0;
            for (size_t i = 0; i < N; ++i) {
                torch::Tensor z = ctx.clean_run(i).cache.at(hook_name(HookKey{HookSite::attn_z, l})).to(torch::kDouble);
                sum = sum.defined() ? sum + z.sum(at::IntArrayRef{0, 1}) : z.sum(at::IntArrayRef{0, 1});
                count += static_cast<double>(z.size(1));
            }
            mean_z.push_back((sum / count).to(torch::kFloat));  // [H, dh]
        }
    }
    auto base_hooks = [&](const std::vector<HeadRef>& set) {
        if (edit.mean) {
            std::vector<HeadIntervention> ivs;
            for (const auto& h : set) {
                HeadIntervention iv;
                iv.layer = h.layer;
                iv.head = h.head;
                iv.mode = InterventionMode::mean;
                iv.source = mean_z[static_cast<size_t>(h.layer)];
                ivs.push_back(iv);
            }
            return head_interventions(ivs);
        }
        std::vector<HeadEdit> edits;
        for (const auto& h : set) {
            HeadEdit e = edit.edit;
            e.head = h;
            edits.push_back(e);
        }
        return edit_hooks(edits, cfg.n_layers, cfg.n_heads);
    };
    SweepEdit sweep_edit;
    if (edit.mean)
        sweep_edit = SweepEdit::set([&mean_z](int l) { return mean_z[static_cast<size_t>(l)].view({1, 1, mean_z[0].size(0), -1}); });
    else if (edit.edit.kind == EditKind::zero)
        sweep_edit = SweepEdit::zero();
    else if (edit.edit.kind == EditKind::scale)
        sweep_edit = SweepEdit::scale(edit.edit.value);
    else
        sweep_edit = SweepEdit::pattern(edit.edit.target, edit.edit.value);

    // Objective of every candidate added to `set`: mean over prompts.
    auto score_candidates = [&](const std::vector<HeadRef>& set, const std::vector<HeadRef>& options) {
        std::vector<double> total(options.size(), 0.0);
        for (auto& [len, g] : groups) {
            ctx.check_cancelled();
            HeadSweep sweep(ctx.model, g.tokens, base_hooks(set));
            sweep.run(options, sweep_edit, [&](size_t first, const torch::Tensor& logits) {
                for (size_t j = 0; j < g.members.size(); ++j) {
                    const size_t i = g.members[j];
                    torch::Tensor rows = logits.select(1, static_cast<int64_t>(j));  // [c, 1, V]
                    torch::Tensor m = attribution::metric_values(rows, objective.metric, targets[i]).to(torch::kCPU, torch::kDouble);
                    for (int64_t r = 0; r < m.size(0); ++r)
                        total[first + static_cast<size_t>(r)] += objective.sign * (m[r].item<double>() - clean[i]) / static_cast<double>(N);
                }
            }, [&ctx] { ctx.check_cancelled(); });
        }
        return total;
    };

    struct Beam {
        std::vector<HeadRef> set;
        double score = 0.0;
    };
    std::vector<Beam> beams{Beam{}};
    Table steps;
    steps.key = "steps";
    steps.title = "Search steps";
    steps.description = fmt::format("Each step adds the head that most increases the {} under the edit {} of every chosen "
                                    "head (best of a beam of {}); objective is the mean over {} prompt(s).",
                                    objective.text, edit_name(edit), beam_width, N);
    steps.columns = {"step", "head", "objective", "gain", "heads"};
    Spectrum curve;
    curve.key = "objective_curve";
    curve.title = "Objective by step";
    curve.description = fmt::format("The {} after each step (step 0: no head edited).", objective.text);
    curve.series_names = {objective.name};
    curve.series = {{0.0}};
    curve.x_axis = "step";
    curve.y_axis = objective.name;
    std::vector<double> chosen_grid(static_cast<size_t>(cfg.n_layers * cfg.n_heads), 0.0);
    double best_so_far = 0.0;
    std::string stop_reason = fmt::format("reached k = {}", k);
    for (size_t step = 1; step <= k; ++step) {
        ctx.step(static_cast<double>(step - 1) / static_cast<double>(k), fmt::format("step {}/{}", step, k));
        std::vector<Beam> next;
        for (const Beam& b : beams) {
            std::set<HeadRef> in(b.set.begin(), b.set.end());
            std::vector<HeadRef> options;
            for (const auto& h : candidates)
                if (!in.count(h)) options.push_back(h);
            if (options.empty()) continue;
            std::vector<double> s = score_candidates(b.set, options);
            for (size_t c = 0; c < options.size(); ++c) {
                Beam nb{b.set, s[c]};
                nb.set.push_back(options[c]);
                next.push_back(std::move(nb));
            }
        }
        if (next.empty()) {
            stop_reason = "no candidate heads left";
            break;
        }
        // Best first; the same set reached in two orders is kept once.
        std::stable_sort(next.begin(), next.end(), [](const Beam& a, const Beam& b) { return a.score > b.score; });
        std::vector<Beam> kept;
        std::set<std::set<HeadRef>> seen;
        for (auto& nb : next) {
            if (kept.size() >= beam_width) break;
            if (seen.insert(std::set<HeadRef>(nb.set.begin(), nb.set.end())).second) kept.push_back(std::move(nb));
        }
        const Beam& best = kept.front();
        const double gain = best.score - best_so_far;
        if (gain <= min_gain) {
            stop_reason = fmt::format("step {} would improve the objective by {:.4g} only (min_gain {:g})", step, gain, min_gain);
            break;
        }
        std::vector<std::string> names;
        for (const auto& h : best.set) names.push_back(head_label(h));
        steps.rows.push_back({static_cast<int64_t>(step), head_label(best.set.back()), best.score, gain,
                              fmt::format("{}", fmt::join(names, " "))});
        curve.series[0].push_back(best.score);
        best_so_far = best.score;
        beams = std::move(kept);
    }
    Result result;
    if (!steps.rows.empty()) {
        const Beam& best = beams.front();
        for (size_t i = 0; i < best.set.size(); ++i)
            chosen_grid[static_cast<size_t>(best.set[i].layer * cfg.n_heads + best.set[i].head)] = static_cast<double>(i + 1);
        std::vector<std::string> names;
        for (const auto& h : best.set) names.push_back(head_label(h));
        result.summary.push_back(fmt::format("{} under {}: {} -> {:.4g} ({})", objective.name, edit_name(edit),
                                             fmt::join(names, ", "), best.score, stop_reason));
    } else {
        result.summary.push_back(fmt::format("{} under {}: no head improves the objective ({})", objective.name,
                                             edit_name(edit), stop_reason));
    }
    HeadGrid g;
    g.key = "chosen_order";
    g.title = "Chosen heads (step)";
    g.description = "The step at which each head joined the set; 0 for heads not chosen.";
    g.layers = cfg.n_layers;
    g.heads = cfg.n_heads;
    g.values = std::move(chosen_grid);
    result.items.push_back(std::move(g));
    result.items.push_back(std::move(steps));
    result.items.push_back(std::move(curve));
    ctx.step(1.0, "done");
    return result;
}

}  // namespace

void register_head_search(AnalysisRegistry& registry) {
    registry.add([] { return std::make_unique<HeadSearch>(); });
}

}  // namespace headscope
