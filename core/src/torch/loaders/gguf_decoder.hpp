// Weights of a GGUF file of the non-llama families (gguf_decoder.cpp). Internal.
#pragma once

#include <memory>

#include "headscope/formats/gguf_arch.hpp"
#include "headscope/model_config.hpp"
#include "headscope/model_weights.hpp"
#include "headscope/tensor_source.hpp"

namespace headscope {

ModelWeights load_gguf_arch_weights(const std::shared_ptr<const TensorSource>& source, const ModelConfig& config,
                                    const GgufArchSettings& settings);

}  // namespace headscope
