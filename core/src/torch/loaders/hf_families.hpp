// Hugging Face families: each maps its checkpoint's tensor names and layouts into the
// canonical weights. One file per family (hf_gpt2.cpp, hf_gpt_neox.cpp, hf_llama.cpp). Internal.
#pragma once

#include <memory>

#include "headscope/model_config.hpp"
#include "headscope/model_weights.hpp"
#include "headscope/tensor_source.hpp"

namespace headscope {

struct LlamaNameTable;
const LlamaNameTable& hf_llama_names();

ModelWeights load_hf_llama_weights(const std::shared_ptr<const TensorSource>& source, const ModelConfig& config);
ModelWeights load_hf_gpt2_weights(const TensorSource& source, const ModelConfig& config);
ModelWeights load_hf_gpt_neox_weights(const TensorSource& source, const ModelConfig& config);

}  // namespace headscope
