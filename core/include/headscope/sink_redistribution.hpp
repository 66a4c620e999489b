// Sink redistribution (See What You Are Told; VAR): a pattern edit that takes share α of a head's
// attention on sink keys and gives it to the other keys it can see, in proportion to the
// attention they already get, so the effect of attention sinks can be tested.
//
// For a query q of an edited head with pattern row P[q, ·] (causal: keys k <= q are visible),
// sink set S and s = Σ_{k∈S, k<=q} P[q, k]:
//   P'[q, k] = (1 − α) · P[q, k]                          for k ∈ S
//   P'[q, k] = P[q, k] · (1 + α · s / (1 − s))            for visible k ∉ S
// so every row still sums to 1 and α = 1 leaves no attention on the sinks. When the visible
// non-sink keys hold no attention (1 − s underflows) the freed share is spread evenly over them;
// a query that sees only sinks (e.g. position 0 with S = {0}) is left unchanged.
//
//   model.run_with_hooks(tokens, {drop_sink_hook(1, {0, 3}, 0.5)});        // first token as sink
//   model.run_with_hooks(tokens, {drop_sink_hook(2, {}, 1.0, {0, 7})});    // every head, keys 0 and 7
#pragma once

#include <vector>

#include "headscope/hooks.hpp"
#include "headscope/interventions.hpp"

namespace headscope {

// A hook on blocks.{layer}.attn.hook_pattern ([batch, head, query, key]). heads: query heads to
// edit (empty = every head of the layer); alpha in [0, 1]; sink_positions: key positions treated
// as sinks (negative values count from the end; empty = the first position). Throws UsageError
// for a negative layer or head, or alpha outside [0, 1]; heads or positions beyond the run are
// reported when the hook runs.
NamedHook drop_sink_hook(int layer, const std::vector<int>& heads, double alpha, const Positions& sink_positions = {0});

}  // namespace headscope
