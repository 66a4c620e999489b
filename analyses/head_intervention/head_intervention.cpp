// head_intervention: edit chosen heads (zero-ablate or scale z at every position, or any edit of
// the --intervene grammar: pattern:uniform@0.5 ...) and report how the answer's probability, the
// logit difference answer − alternative, the KL of the next-token distribution, the accuracy and
// the top-k next tokens change, per prompt and averaged; and how often the answer flips to the
// alternative.
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "head_attribution/attribution_metric.hpp"
#include "headscope/channel_edit.hpp"
#include "headscope/interventions.hpp"
#include "headscope/session.hpp"
#include "headscope/sdk/analysis.hpp"
#include "headscope/sink_redistribution.hpp"

namespace headscope {

namespace {
using attribution::MetricKind;
using attribution::Target;

std::vector<std::string> heads_text(const std::vector<HeadRef>& heads) {
    std::vector<std::string> out;
    for (const auto& h : heads) out.push_back(head_label(h.layer, h.head));
    return out;
}

struct Snapshot {
    double p_answer = 0;
    double logit_diff = 0;
    std::vector<int64_t> top_ids;
    std::vector<double> top_probs;
};

Snapshot snapshot(const torch::Tensor& final_logits, const Target& t, int64_t k) {
    torch::Tensor logits = final_logits.detach().to(torch::kCPU, torch::kDouble);
    torch::Tensor probs = torch::softmax(logits, -1);
    NextTokenTarget target;
    target.answer = t.answer;
    target.alternative = t.alternative;
    const NextTokenMetrics m = next_token_metrics(logits, target);  // the GUI's numbers too
    Snapshot s;
    s.p_answer = m.p_answer;
    s.logit_diff = m.logit_diff;
    auto [values, ids] = probs.topk(std::min<int64_t>(k, probs.size(0)));
    for (int64_t i = 0; i < ids.size(0); ++i) {
        s.top_ids.push_back(ids[i].item<int64_t>());
        s.top_probs.push_back(values[i].item<double>());
    }
    return s;
}

// "0,-1" -> {0, -1}; UsageError naming the parameter otherwise.
Positions parse_positions(const std::string& text) {
    Positions out;
    size_t start = 0;
    while (start <= text.size()) {
        const size_t comma = std::min(text.find(',', start), text.size());
        const std::string piece = text.substr(start, comma - start);
        size_t used = 0;
        try {
            out.push_back(std::stoll(piece, &used));
        } catch (const std::exception&) {
            used = 0;
        }
        if (used == 0 || used != piece.size())
            throw UsageError(fmt::format("head_intervention.sink_positions: '{}' is not a list of positions (e.g. 0 or 0,5)",
                                         text));
        start = comma + 1;
    }
    return out;
}

class HeadInterventionAnalysis : public Analysis {
public:
    std::string id() const override { return "head_intervention"; }
    std::string title() const override { return "Head intervention"; }
    std::string version() const override { return "1.0"; }
    std::string description() const override {
        return "Zero-ablate or scale chosen heads' outputs (z), scale them along their top-r OV singular directions "
               "only (mode=channel, the Talking-Heads channel edit), move share alpha of their attention on sink "
               "positions to their other keys (mode=drop_sink), or apply any --intervene edit, and report the change of "
               "the answer's probability, the logit difference, the KL, the accuracy (top-1 is the answer) and the top "
               "next tokens, per prompt and averaged.";
    }
    std::vector<ParamSpec> parameters() const override {
        return {
            ParamSpec::heads("heads", "", "heads to edit: L1H4,L2H0 (1.4 and 1:4 work too)"),
            ParamSpec::choice("mode", "scale", {"scale", "zero", "channel", "drop_sink"},
                              "scale (z *= scale), zero (z := 0), channel (the output along the top channel_rank OV "
                              "singular directions *= scale) or drop_sink (move share alpha of the heads' attention on "
                              "the sink positions to their other keys, in proportion)"),
            ParamSpec::real("scale", 0.0, "factor for mode=scale and mode=channel (0 is zero ablation, 1 changes nothing)",
                            -1e6, 1e6),
            ParamSpec::integer("channel_rank", 1, "mode=channel: OV singular directions (channels) scaled", 1, 1e6),
            ParamSpec::real("alpha", 1.0, "mode=drop_sink: share of the sink attention moved to the other keys", 0, 1),
            ParamSpec::text("sink_positions", "0",
                            "mode=drop_sink: key positions treated as sinks, comma-separated (negative counts from the end)"),
            ParamSpec::text("edit", "",
                            "instead of mode/scale: one edit for every chosen head, as in --intervene: zero, scale:F, "
                            "pattern:uniform|identity|previous|head:L2H5[@ALPHA], channel:F[@RANK], drop_sink[:ALPHA]"),
            ParamSpec::integer("top_k", 5, "next tokens listed before and after", 1, 100),
        };
    }
    Result run(AnalysisContext& ctx) override;
};

Result HeadInterventionAnalysis::run(AnalysisContext& ctx) {
    const ModelConfig& cfg = ctx.config();
    const std::vector<HeadRef> heads = ctx.params.get_heads("heads");
    if (heads.empty())
        throw UsageError("head_intervention.heads: choose the heads to edit, e.g. --set head_intervention.heads=L1H4,L2H0");
    for (const auto& h : heads)
        if (h.layer < 0 || h.layer >= cfg.n_layers || h.head < 0 || h.head >= cfg.n_heads)
            throw UsageError(fmt::format("head_intervention.heads: head {} does not exist (the model has layers 0..{} with "
                                         "heads 0..{})",
                                         to_string(h), cfg.n_layers - 1, cfg.n_heads - 1));
    const bool zero = ctx.params.get_text("mode") == "zero";
    const bool channel = ctx.params.get_text("mode") == "channel";
    const bool drop_sink = ctx.params.get_text("mode") == "drop_sink";
    const int64_t channel_rank = ctx.params.get_int("channel_rank");
    const double factor = zero ? 0.0 : drop_sink ? ctx.params.get_real("alpha") : ctx.params.get_real("scale");
    const std::string edit_param = ctx.params.get_text("edit");
    const int64_t k = ctx.params.get_int("top_k");
    const bool sink_grid = drop_sink && edit_param.empty();

    std::vector<HeadEdit> edits;
    std::vector<double> grid(static_cast<size_t>(cfg.n_layers * cfg.n_heads), sink_grid ? 0.0 : 1.0);
    std::vector<std::string> labels;
    for (const auto& h : heads) {
        HeadEdit e;
        if (!edit_param.empty()) {
            try {
                e = parse_edit(h, edit_param);
            } catch (const UsageError& err) {
                throw UsageError(fmt::format("head_intervention.edit '{}': {}\n{}", edit_param, err.what(), intervention_grammar()));
            }
        } else {
            e.head = h;
            e.kind = zero ? EditKind::zero : EditKind::scale;
            e.value = factor;
        }
        edits.push_back(e);
        grid[static_cast<size_t>(h.layer * cfg.n_heads + h.head)] =
            e.kind == EditKind::zero                                   ? 0.0
            : e.kind == EditKind::scale || e.kind == EditKind::channel ? e.value
                                                                       : 1.0 - e.value;
        labels.push_back(to_string(e));
    }
    std::vector<NamedHook> hooks;
    std::map<int, std::vector<int>> by_layer;
    for (const auto& h : heads) by_layer[h.layer].push_back(h.head);
    std::string edit_text;
    if (!edit_param.empty()) {
        hooks = edit_hooks(edits, ctx.model);
        edit_text = fmt::format("editing {}", fmt::join(labels, ", "));
    } else if (channel) {
        ChannelEditOptions options;
        options.scale = factor;
        options.rank = channel_rank;
        for (const auto& [layer, list] : by_layer) hooks.push_back(channel_edit_hook(ctx.model, layer, list, options));
        edit_text = fmt::format("scaling {} by {:g} along the top {} OV singular direction(s)",
                                fmt::join(heads_text(heads), ", "), factor, channel_rank);
    } else if (drop_sink) {
        const Positions sinks = parse_positions(ctx.params.get_text("sink_positions"));
        for (const auto& [layer, list] : by_layer) hooks.push_back(drop_sink_hook(layer, list, factor, sinks));
        for (const auto& h : heads) grid[static_cast<size_t>(h.layer * cfg.n_heads + h.head)] = factor;
        edit_text = fmt::format("moving {:g} of the sink attention (positions {}) of {} to the other keys", factor,
                                ctx.params.get_text("sink_positions"), fmt::join(heads_text(heads), ", "));
    } else {
        hooks = edit_hooks(edits, cfg.n_layers, cfg.n_heads);
        edit_text = zero ? fmt::format("zero-ablating {}", fmt::join(heads_text(heads), ", "))
                         : fmt::format("scaling {} by {:g}", fmt::join(heads_text(heads), ", "), factor);
    }

    Result result;
    Table per_prompt;
    per_prompt.key = "per_prompt";
    per_prompt.title = "Effect per prompt";
    per_prompt.description = fmt::format("The answer's probability and the logit difference answer − alternative at the "
                                         "final position, before and after {} (z at every position).",
                                         edit_text);
    per_prompt.columns = {"prompt", "text", "answer", "alternative", "p_answer_before", "p_answer_after", "p_answer_change",
                          "logit_diff_before", "logit_diff_after", "logit_diff_change", "top1_before", "top1_after",
                          "kl_divergence", "flipped_to_alternative"};
    Table top;
    top.key = "top_tokens";
    top.title = "Top next tokens";
    top.description = fmt::format("The {} most probable next tokens at the final position before and after {}.", k, edit_text);
    top.columns = {"prompt", "rank", "token_before", "p_before", "token_after", "p_after"};

    const size_t N = ctx.prompts.size();
    double sum_p0 = 0, sum_p1 = 0, sum_d0 = 0, sum_d1 = 0, sum_kl = 0;
    size_t top1_changed = 0, correct0 = 0, correct1 = 0, from_model = 0, flipped0 = 0, flipped1 = 0;
    auto text = [&](int64_t id) { return attribution::token_label(ctx.tokenizer, id); };
    for (size_t i = 0; i < N; ++i) {
        ctx.step(static_cast<double>(i) / static_cast<double>(N), fmt::format("prompt {}/{}", i + 1, N));
        torch::NoGradGuard no_grad;
        torch::Tensor before = ctx.clean_run(i).logits[0][-1];
        torch::Tensor after = ctx.model.run_with_hooks(ctx.tokens(i), hooks)[0][-1];
        const Target t = attribution::resolve_target(ctx.prompts[i], before, MetricKind::logit_diff);
        from_model += t.answer_from_model || t.alternative_from_model;
        const Snapshot s0 = snapshot(before, t, k), s1 = snapshot(after, t, k);
        const double kl = next_token_kl(before, after);
        sum_p0 += s0.p_answer, sum_p1 += s1.p_answer, sum_d0 += s0.logit_diff, sum_d1 += s1.logit_diff, sum_kl += kl;
        top1_changed += s0.top_ids[0] != s1.top_ids[0];
        correct0 += s0.top_ids[0] == t.answer;
        correct1 += s1.top_ids[0] == t.answer;
        flipped0 += s0.top_ids[0] == t.alternative;
        flipped1 += s1.top_ids[0] == t.alternative;
        per_prompt.rows.push_back({static_cast<int64_t>(i), ctx.prompts[i].example.prompt, text(t.answer), text(t.alternative),
                                   s0.p_answer, s1.p_answer, s1.p_answer - s0.p_answer, s0.logit_diff, s1.logit_diff,
                                   s1.logit_diff - s0.logit_diff, text(s0.top_ids[0]), text(s1.top_ids[0]), kl,
                                   static_cast<int64_t>(s1.top_ids[0] == t.alternative)});
        for (size_t r = 0; r < s0.top_ids.size(); ++r)
            top.rows.push_back({static_cast<int64_t>(i), static_cast<int64_t>(r + 1), text(s0.top_ids[r]), s0.top_probs[r],
                                text(s1.top_ids[r]), s1.top_probs[r]});
    }
    const double n = static_cast<double>(N);
    Table averages;
    averages.key = "averages";
    averages.title = "Averages over the prompts";
    averages.description = fmt::format("Means over {} prompt(s), before and after {}.", N, edit_text);
    averages.columns = {"quantity", "before", "after", "change"};
    averages.rows.push_back({std::string("p(answer)"), sum_p0 / n, sum_p1 / n, (sum_p1 - sum_p0) / n});
    averages.rows.push_back({std::string("logit difference"), sum_d0 / n, sum_d1 / n, (sum_d1 - sum_d0) / n});
    averages.rows.push_back({std::string("top-1 is the answer"), static_cast<double>(correct0) / n,
                             static_cast<double>(correct1) / n, (static_cast<double>(correct1) - static_cast<double>(correct0)) / n});
    averages.rows.push_back({std::string("top-1 is the alternative"), static_cast<double>(flipped0) / n,
                             static_cast<double>(flipped1) / n, (static_cast<double>(flipped1) - static_cast<double>(flipped0)) / n});
    averages.rows.push_back({std::string("KL(before || after)"), 0.0, sum_kl / n, sum_kl / n});

    HeadGrid g;
    g.key = "head_factor";
    g.title = sink_grid ? "Share of sink attention moved" : "Factor applied to each head";
    g.description = sink_grid ? "0 for heads left alone; alpha for the heads whose sink attention is redistributed."
                              : "1 for heads left alone; the scale of z (0 for zero ablation) for z edits; with "
                                "mode=channel the factor on the top OV singular directions only; 1 − strength (the share "
                                "of its own attention kept) for pattern edits.";
    g.layers = cfg.n_layers;
    g.heads = cfg.n_heads;
    g.values = std::move(grid);
    g.scale = Scale::diverging;

    result.summary.push_back(fmt::format("{} over {} prompt(s):", edit_text, N));
    result.summary.push_back(fmt::format("  mean p(answer) {:.4f} -> {:.4f} ({:+.4f})", sum_p0 / n, sum_p1 / n, (sum_p1 - sum_p0) / n));
    result.summary.push_back(
        fmt::format("  mean logit difference {:.4f} -> {:.4f} ({:+.4f})", sum_d0 / n, sum_d1 / n, (sum_d1 - sum_d0) / n));
    result.summary.push_back(fmt::format("  accuracy (top-1 is the answer) {:.4f} -> {:.4f} ({:+.4f})", correct0 / n,
                                         correct1 / n, (static_cast<double>(correct1) - static_cast<double>(correct0)) / n));
    result.summary.push_back(fmt::format("  top-1 prediction changed on {} of {} prompt(s); mean KL {:.4g} nats", top1_changed,
                                         N, sum_kl / n));
    result.summary.push_back(fmt::format("  the answer flips to the alternative on {} of {} prompt(s)", flipped1, N));
    if (from_model)
        result.summary.push_back(fmt::format("  {} prompt(s) lack an answer or alternative: the clean run's top tokens are used",
                                             from_model));
    result.items.push_back(std::move(g));
    result.items.push_back(std::move(averages));
    result.items.push_back(std::move(per_prompt));
    result.items.push_back(std::move(top));
    ctx.step(1.0, "done");
    return result;
}

}  // namespace

void register_head_intervention(AnalysisRegistry& registry) {
    registry.add([] { return std::make_unique<HeadInterventionAnalysis>(); });
}

}  // namespace headscope
