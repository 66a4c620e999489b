// Head edits as text: the grammar of `--intervene SPEC` (CLI), parsed into structured edits that
// core's hook factories (interventions.hpp: edit_hooks) turn into hooks. Torch-free.
//
//   SPEC     := HEAD "=" EDIT
//   HEAD     := L1H4 | 1.4 | 1:4                     (parse_head)
//   EDIT     := "zero"                               z := 0
//             | "scale:" FACTOR                      z *= FACTOR
//             | "pattern:" TARGET ["@" ALPHA]        A' = (1-α)·A + α·target, α in [0, 1] (default 1)
//             | "channel:" FACTOR ["@" RANK]         the output along the top RANK OV singular directions
//                                                    *= FACTOR (RANK defaults to 1; channel_edit.hpp)
//             | "drop_sink" [":" ALPHA]              share α (default 1) of the attention on the first
//                                                    token moves to the other keys (sink_redistribution.hpp)
//   TARGET   := "uniform" | "identity" | "previous" | "head:" HEAD
//
// Extension point: a new edit kind is one EditKind (or PatternTarget) value, one entry in the
// parse table of intervention_spec.cpp (kEditKinds / kPatternTargets) and one case in the
// switch of make_edit_hook (core/src/torch/interventions/edit_hooks.cpp).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "headscope/sdk/head_ref.hpp"

namespace headscope {

enum class EditKind {
    zero,     // the head's z := 0
    scale,    // the head's z *= value
    pattern,  // the head's hook_pattern moves toward a target pattern with strength value
    channel,  // the head's output along its top `rank` OV singular directions *= value
    drop_sink,  // share value of the head's attention on the first token moves to its other keys
};

enum class PatternTarget {
    uniform,   // uniform over the causal window: 1/(q+1) for k <= q (Ships' undifferentiated attention)
    identity,  // each query attends to itself
    previous,  // each query attends to the previous token (position 0 to itself)
    head,      // another head's pattern in the same run (HeadEdit::source, same or earlier layer)
};

struct HeadEdit {
    HeadRef head;
    EditKind kind = EditKind::zero;
    double value = 0.0;  // scale, channel: the factor; pattern, drop_sink: the strength α in [0, 1]
    int rank = 1;        // channel only: OV singular directions edited
    PatternTarget target = PatternTarget::uniform;  // pattern only
    HeadRef source;                                 // pattern:head only
};

const char* to_string(EditKind kind);
const char* to_string(PatternTarget target);
// Canonical text: "L1H4=zero", "L2H0=scale:1.5", "L0H3=pattern:identity@0.5", "L3H1=pattern:head:L2H5@1".
std::string to_string(const HeadEdit& edit);

// The grammar above as a few lines, for error messages and --help.
std::string intervention_grammar();

// "L1H4=zero" etc. Throws UsageError naming the spec and showing the grammar.
HeadEdit parse_head_edit(std::string_view spec);
// The part after '=' alone, for a known head: "pattern:uniform@0.5".
HeadEdit parse_edit(const HeadRef& head, std::string_view edit);
std::vector<HeadEdit> parse_head_edits(const std::vector<std::string>& specs);

}  // namespace headscope
