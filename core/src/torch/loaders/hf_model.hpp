// Hugging Face model directories (config.json + safetensors + tokenizer.json). Internal.
#pragma once

#include "headscope/model_loader.hpp"

namespace headscope {

LoadedModel load_hf_model(const std::string& directory, const LoadOptions& options);

}  // namespace headscope
