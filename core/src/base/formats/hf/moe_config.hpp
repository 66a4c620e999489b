// config.json -> MoeSettings for the mixture-of-experts decoders: mixtral, qwen2_moe, qwen3_moe,
// olmoe (their attention and norms are read by decoder_config like their dense relatives). Internal.
#pragma once

#include <string>

#include "formats/hf/config_fields.hpp"
#include "headscope/model_config.hpp"

namespace headscope::hf_cfg {

bool is_moe_type(const std::string& model_type);
// `d_mlp` is intermediate_size as read (the experts' width in Mixtral and OLMoE).
MoeSettings moe_settings(const ConfigFields& f, const std::string& model_type, int n_layers, int d_mlp);

}  // namespace headscope::hf_cfg
