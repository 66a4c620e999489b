// Hugging Face config.json -> ModelConfig for the supported families, and each family's table
// of tensor names (HF name for every canonical weight). Torch-free.
#pragma once

#include <string>
#include <vector>

#include "headscope/model_config.hpp"

namespace headscope {

// Reads <dir>/config.json. model_type gpt2 | gpt_neox | llama | mistral | qwen2; anything else
// throws ConfigError listing the supported types. Missing keys fall back to the HF defaults of
// that family; impossible values throw ConfigError naming the key.
ModelConfig read_hf_config(const std::string& directory);
ModelConfig parse_hf_config(const std::string& json_text, const std::string& origin);

}  // namespace headscope
