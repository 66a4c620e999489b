// Hooks for parsed head edits (zero, scale, pattern targets) — the one place where an EditKind
// becomes a hook (the extension point for new edit kinds: a case in make_edit_hook).
#include <torch/torch.h>

#include <map>
#include <memory>

#include <fmt/format.h>

#include "headscope/error.hpp"
#include "headscope/hook_names.hpp"
#include "headscope/channel_edit.hpp"
#include "headscope/hooked_transformer.hpp"
#include "headscope/interventions.hpp"
#include "headscope/sink_redistribution.hpp"

namespace headscope {

at::Tensor target_pattern(PatternTarget target, int64_t T, const at::TensorOptions& options) {
    switch (target) {
        case PatternTarget::uniform: {
            torch::Tensor causal = torch::ones({T, T}, options).tril();
            return causal / torch::arange(1, T + 1, options).unsqueeze(1);
        }
        case PatternTarget::identity: return torch::eye(T, options);
        case PatternTarget::previous: {
            torch::Tensor prev = torch::zeros({T, T}, options);
            if (T > 1) prev.narrow(0, 1, T - 1).narrow(1, 0, T - 1).copy_(torch::eye(T - 1, options));
            prev[0][0] = 1.0;
            return prev;
        }
        case PatternTarget::head: break;
    }
    throw UsageError("target_pattern: a head's pattern comes from the run, not from a formula");
}

namespace {

std::string pattern_hook(int layer) { return hook_name(HookKey{HookSite::attn_pattern, layer}); }

void check_pattern(const at::Tensor& A, int head, const HookPoint& p) {
    if (A.dim() != 4 || A.size(2) != A.size(3))
        throw UsageError(fmt::format("{}: pattern edits expect [batch, head, query, key]", p.name));
    if (head < 0 || head >= A.size(1))
        throw UsageError(fmt::format("{}: head {} does not exist (the layer has heads 0..{})", p.name, head, A.size(1) - 1));
}

// A with head `head` moved toward target ([T, T] or [B, T, T]) by strength.
torch::Tensor blend_head(const torch::Tensor& A, int head, const torch::Tensor& target, double strength) {
    torch::Tensor out = A.clone();
    out.select(1, head).copy_(A.select(1, head) * (1.0 - strength) + target.to(A.scalar_type()) * strength);
    return out;
}

// Edits of one layer's pattern, and heads of this layer whose pattern later edits copy.
struct PatternLayer {
    std::vector<HeadEdit> edits;
    std::vector<int> captured;  // heads of this layer to record before the edits
};
using Captures = std::map<HeadRef, torch::Tensor>;  // source head -> its pattern [B, T, T]

}  // namespace

NamedHook pattern_heads_hook(int layer, const std::vector<int>& heads, PatternTarget target, double strength) {
    if (layer < 0) throw UsageError(fmt::format("pattern_heads_hook: layer {} is negative", layer));
    if (!(strength >= 0.0 && strength <= 1.0))
        throw UsageError(fmt::format("pattern_heads_hook: strength {} is outside [0, 1]", strength));
    if (target == PatternTarget::head) throw UsageError("pattern_heads_hook: use edit_hooks to copy another head's pattern");
    return {pattern_hook(layer), [heads, target, strength](const at::Tensor& A, const HookPoint& p) -> std::optional<at::Tensor> {
                torch::Tensor t = target_pattern(target, A.size(2), A.options());
                torch::Tensor out = A;
                for (int h : heads) {
                    check_pattern(A, h, p);
                    out = blend_head(out, h, t, strength);
                }
                return out;
            }};
}

namespace {
std::vector<NamedHook> make_edit_hooks(const std::vector<HeadEdit>& edits, int n_layers, int n_heads,
                                       const HookedTransformer* model) {
    std::vector<HeadIntervention> z_edits;
    std::vector<NamedHook> weight_hooks;  // channel and drop_sink edits: one hook each
    std::map<int, PatternLayer> patterns;
    auto check = [&](const HeadRef& h, const HeadEdit& e) {
        if (h.layer < 0 || h.layer >= n_layers || h.head < 0 || h.head >= n_heads)
            throw UsageError(fmt::format("edit {}: head {} does not exist (the model has layers 0..{} with heads 0..{})",
                                         to_string(e), head_label(h), n_layers - 1, n_heads - 1));
    };
    for (const HeadEdit& e : edits) {
        check(e.head, e);
        // The extension point: one case per EditKind.
        switch (e.kind) {
            case EditKind::zero:
            case EditKind::scale: {
                HeadIntervention iv;
                iv.layer = e.head.layer;
                iv.head = e.head.head;
                iv.mode = e.kind == EditKind::zero ? InterventionMode::zero : InterventionMode::scale;
                iv.factor = e.kind == EditKind::zero ? 0.0 : e.value;
                z_edits.push_back(iv);
                break;
            }
            case EditKind::pattern: {
                if (!(e.value >= 0.0 && e.value <= 1.0))
                    throw UsageError(fmt::format("edit {}: the strength must be in [0, 1]", to_string(e)));
                if (e.target == PatternTarget::head) {
                    check(e.source, e);
                    if (e.source.layer > e.head.layer)
                        throw UsageError(fmt::format("edit {}: the source head {} is in a later layer; copy from the same "
                                                     "or an earlier layer",
                                                     to_string(e), head_label(e.source)));
                    patterns[e.source.layer].captured.push_back(e.source.head);
                }
                patterns[e.head.layer].edits.push_back(e);
                break;
            }
            case EditKind::channel: {
                if (!model)
                    throw UsageError(fmt::format("edit {}: a channel edit needs the model's weights (edit_hooks(edits, model))",
                                                 to_string(e)));
                ChannelEditOptions options;
                options.scale = e.value;
                options.rank = e.rank;
                weight_hooks.push_back(channel_edit_hook(*model, e.head.layer, {e.head.head}, options));
                break;
            }
            case EditKind::drop_sink: {
                if (!(e.value >= 0.0 && e.value <= 1.0))
                    throw UsageError(fmt::format("edit {}: the share must be in [0, 1]", to_string(e)));
                weight_hooks.push_back(drop_sink_hook(e.head.layer, {e.head.head}, e.value, {0}));
                break;
            }
        }
    }
    std::vector<NamedHook> hooks = head_interventions(z_edits);
    for (auto& h : weight_hooks) hooks.push_back(std::move(h));
    auto captures = std::make_shared<Captures>();
    for (auto& [layer, spec] : patterns) {
        auto shared = std::make_shared<const PatternLayer>(spec);
        hooks.push_back({pattern_hook(layer), [shared, captures](const at::Tensor& A, const HookPoint& p) -> std::optional<at::Tensor> {
                             for (int h : shared->captured) {
                                 check_pattern(A, h, p);
                                 (*captures)[HeadRef{p.key.layer, h}] = A.select(1, h);
                             }
                             torch::Tensor out = A;
                             for (const HeadEdit& e : shared->edits) {
                                 check_pattern(A, e.head.head, p);
                                 torch::Tensor target;
                                 if (e.target == PatternTarget::head) {
                                     auto it = captures->find(e.source);
                                     if (it == captures->end() || it->second.sizes() != A.select(1, 0).sizes())
                                         throw UsageError(fmt::format("{}: the pattern of {} was not computed in this run",
                                                                      p.name, head_label(e.source)));
                                     target = it->second;
                                 } else {
                                     target = target_pattern(e.target, A.size(2), A.options());
                                 }
                                 out = blend_head(out, e.head.head, target, e.value);
                             }
                             return out;
                         }});
    }
    return hooks;
}
}  // namespace

std::vector<NamedHook> edit_hooks(const std::vector<HeadEdit>& edits, int n_layers, int n_heads) {
    return make_edit_hooks(edits, n_layers, n_heads, nullptr);
}

std::vector<NamedHook> edit_hooks(const std::vector<HeadEdit>& edits, const HookedTransformer& model) {
    return make_edit_hooks(edits, model.config().n_layers, model.config().n_heads, &model);
}

}  // namespace headscope

