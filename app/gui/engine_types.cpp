#include "engine_types.hpp"

namespace headscope::gui {

const char* metric_label(MetricKind kind) {
    switch (kind) {
        case MetricKind::target_probability: return "Target probability";
        case MetricKind::target_logit: return "Target logit";
        case MetricKind::logit_difference: return "Logit difference";
        case MetricKind::kl_divergence: return "KL from baseline";
    }
    return "";
}

}  // namespace headscope::gui
