// Hugging Face model directories (config.json + safetensors + tokenizer.json). Internal.
#pragma once

#include <memory>
#include <string>

#include "headscope/model_config.hpp"
#include "headscope/model_weights.hpp"
#include "headscope/tensor_source.hpp"

namespace headscope {

struct HfWeights {
    ModelConfig config;
    ModelWeights weights;  // views of the mapped safetensors, stored dtype
    std::shared_ptr<const TensorSource> source;
};
HfWeights load_hf_weights(const std::string& directory);

// <directory>/tokenizer.json; FormatError saying how to save one when it is missing.
std::string hf_tokenizer_path(const std::string& directory);

}  // namespace headscope
