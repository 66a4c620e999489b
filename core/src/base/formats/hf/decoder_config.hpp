// config.json -> ModelConfig for the RMSNorm decoder families: llama, mistral, qwen2, qwen3,
// gemma, gemma2, gemma3_text (and gemma3's text_config), phi3, olmo2, and the mixture-of-experts
// decoders mixtral, qwen2_moe, qwen3_moe, olmoe. Internal.
#pragma once

#include <string>

#include "formats/hf/config_fields.hpp"
#include "headscope/model_config.hpp"

namespace headscope::hf_cfg {

bool is_decoder_type(const std::string& model_type);
const char* decoder_types();  // for messages
ModelConfig decoder_config(const ConfigFields& f, const std::string& model_type);

}  // namespace headscope::hf_cfg
