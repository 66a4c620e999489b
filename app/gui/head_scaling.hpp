// The intervention panel's edit of a forward pass: each listed head's z (its attention output
// before W_O, blocks.L.attn.hook_z) multiplied by a factor; 0 is zero ablation. Built on the
// core's head interventions (interventions.hpp).
#pragma once

#include <vector>

#include "engine_types.hpp"
#include "headscope/hooks.hpp"

namespace headscope::gui {

// One hook per layer that has heads to edit; factors of exactly 1 are skipped.
std::vector<NamedHook> head_scaling_hooks(const std::vector<HeadScale>& scales);

}  // namespace headscope::gui
