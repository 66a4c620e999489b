// Interventions: hook factories that edit a forward pass — zero-ablate, scale, mean-ablate or
// patch attention heads (on blocks.L.attn.hook_z, one slice per query head, so they are
// GQA-safe), and patch any hook point from a cached tensor. Each returns a NamedHook for
// HookedTransformer::run_with_hooks / run_with_cache / add_hook. Replacements are built out of
// place, so gradients flow through them when autograd is on.
//
//   model.run_with_hooks(tokens, {scale_heads_hook(1, {4}, 0.5)});
//   model.run_with_hooks(tokens, head_interventions({{1, 4, InterventionMode::zero}}));
//   model.run_with_hooks(corrupted, {patch_heads_hook(2, {0}, clean.cache.at(HookSite::attn_z, 2))});
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "headscope/hooks.hpp"
#include "headscope/intervention_spec.hpp"

namespace headscope {

class HookedTransformer;

enum class InterventionMode {
    zero,   // z of the head := 0
    scale,  // z of the head *= factor
    mean,   // z of the head := a mean z (over a reference set)
    patch,  // z of the head := z of the same head in another (cached) run
};
const char* to_string(InterventionMode mode);
// "zero", "scale", "mean", "patch" (also "ablate" = zero, "resample" = patch). UsageError otherwise.
InterventionMode parse_intervention_mode(std::string_view text);

// Positions are indices along the activation's position axis; negative values count from the
// end (-1 = last position). An empty list means every position. Out-of-range positions throw
// UsageError when the hook runs.
using Positions = std::vector<int64_t>;

// --- heads (hook point blocks.{layer}.attn.hook_z, [batch, pos, n_heads, d_head]) ---
NamedHook zero_heads_hook(int layer, const std::vector<int>& heads, const Positions& positions = {});
NamedHook scale_heads_hook(int layer, const std::vector<int>& heads, double factor, const Positions& positions = {});
// mean_z: the layer's mean z, [n_heads, d_head] (one mean for every position) or
// [pos, n_heads, d_head] (a mean per position; pos must equal the run's positions).
NamedHook mean_ablate_heads_hook(int layer, const std::vector<int>& heads, const at::Tensor& mean_z,
                                 const Positions& positions = {});
// source_z: the layer's z from another run, [pos, n_heads, d_head] or [batch, pos, n_heads, d_head]
// (batch 1 is broadcast); pos must equal the run's positions. For resample ablation pass the z of
// a corrupted run; for activation patching the z of the clean run.
NamedHook patch_heads_hook(int layer, const std::vector<int>& heads, const at::Tensor& source_z,
                           const Positions& positions = {});

// --- any hook point ---
// Replaces the activation at `hook_name` (a name, not a glob) with `source` at the given
// positions. source has the activation's shape, or lacks its batch axis, or has batch 1 (then it
// is broadcast). Positions index axis 1 of [batch, pos, ...] activations, and the query axis (2)
// of attn_scores / attn_pattern [batch, head, query, key].
NamedHook patch_hook(const std::string& hook_name, const at::Tensor& source, const Positions& positions = {});

// One edit of one head, as the GUI's intervention panel and head_intervention build them.
struct HeadIntervention {
    int layer = 0;
    int head = 0;
    InterventionMode mode = InterventionMode::zero;
    double factor = 0.0;  // scale only
    // mean: the layer's mean z ([H, dh] or [T, H, dh]); patch: the layer's source z
    // ([T, H, dh] or [B, T, H, dh]). Unused for zero and scale.
    at::Tensor source;
    Positions positions;  // empty = every position
};

// One hook per layer that has interventions, applying them in the given order. Throws UsageError
// for a negative layer/head, a missing source for mean/patch, or a non-finite factor (layers and
// heads beyond the model are reported when the hook is added or runs).
std::vector<NamedHook> head_interventions(const std::vector<HeadIntervention>& interventions);

// --- attention patterns (hook point blocks.{layer}.attn.hook_pattern, [batch, head, query, key]) ---
// The target pattern [T, T] of uniform / identity / previous (rows sum to 1, causal). UsageError
// for PatternTarget::head (that one comes from the run).
at::Tensor target_pattern(PatternTarget target, int64_t T, const at::TensorOptions& options);
// A' = (1 − strength)·A + strength·target for the given query heads (GQA: per query head, the
// kv heads are untouched). strength in [0, 1]; 0 changes nothing, 1 is the full replacement.
NamedHook pattern_heads_hook(int layer, const std::vector<int>& heads, PatternTarget target, double strength);

// Hooks for parsed edits (intervention_spec.hpp: `--intervene L1H4=zero` ...), validated against
// the model's layers and heads (UsageError naming the edit). pattern:head:LxHy copies the source
// head's pattern as the same forward pass computed it (before edits at its layer); the source
// must be in the same or an earlier layer. Edits of one layer apply in the given order.
// channel edits read the model's weights: the first form refuses them (UsageError).
std::vector<NamedHook> edit_hooks(const std::vector<HeadEdit>& edits, int n_layers, int n_heads);
std::vector<NamedHook> edit_hooks(const std::vector<HeadEdit>& edits, const HookedTransformer& model);

}  // namespace headscope
