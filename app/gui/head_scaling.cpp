#include "head_scaling.hpp"

#include "headscope/interventions.hpp"

namespace headscope::gui {

std::vector<NamedHook> head_scaling_hooks(const std::vector<HeadScale>& scales) {
    std::vector<HeadIntervention> edits;
    for (const HeadScale& s : scales) {
        if (s.factor == 1.0) continue;
        HeadIntervention edit;
        edit.layer = s.layer;
        edit.head = s.head;
        edit.mode = s.factor == 0.0 ? InterventionMode::zero : InterventionMode::scale;
        edit.factor = s.factor;
        edits.push_back(std::move(edit));
    }
    return head_interventions(edits);
}

}  // namespace headscope::gui
