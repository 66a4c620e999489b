// Rotary settings of a Hugging Face config.json: rope_theta, partial_rotary_factor and the
// scaling object (legacy "rope_scaling", transformers v5 "rope_parameters"). Internal.
#pragma once

#include <optional>

#include "formats/hf/config_fields.hpp"
#include "headscope/model_config.hpp"

namespace headscope::hf_cfg {

struct RopeSettings {
    double theta = 10000.0;
    std::optional<double> partial_factor;  // partial_rotary_factor, when given
    bool partial_nested = false;           // ... inside rope_parameters
    const nlohmann::json* scaling = nullptr;  // the object naming a rope type other than default
    const char* scaling_key = "rope_scaling";
    const char* partial_key() const {
        return partial_nested ? "rope_parameters.partial_rotary_factor" : "partial_rotary_factor";
    }
};

// Reads theta (legacy_theta_key, then rope_theta, then rope_parameters.rope_theta) and finds the
// scaling object, without interpreting it.
RopeSettings read_rope(const ConfigFields& f, const char* legacy_theta_key, double default_theta);

// Interprets the scaling object as transformers' modeling_rope_utils does. max_positions is the
// config's max_position_embeddings; original_top_level its top-level
// original_max_position_embeddings (Phi-3), when present. Throws ConfigError listing the
// supported rope types for any other.
RopeScaling resolve_rope_scaling(const ConfigFields& f, const RopeSettings& rope, int max_positions,
                                 std::optional<int> original_top_level);

// The types resolve_rope_scaling accepts, for messages.
const char* supported_rope_types();

}  // namespace headscope::hf_cfg
