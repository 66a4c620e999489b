// Hugging Face families: each maps its checkpoint's tensor names and layouts into the
// canonical weights. One file per family (hf_gpt2.cpp, hf_gpt_neox.cpp, hf_decoder.cpp). Internal.
#pragma once

#include <memory>

#include "headscope/model_config.hpp"
#include "headscope/model_weights.hpp"
#include "headscope/tensor_source.hpp"

namespace headscope {

// llama, mistral, qwen2, qwen3, gemma, gemma2, gemma3(_text), phi3, olmo2 (hf_decoder.cpp): views of
// the mapped file in the stored dtype; the weights keep `source` alive.
ModelWeights load_hf_decoder_weights(const std::shared_ptr<const TensorSource>& source, const ModelConfig& config);
ModelWeights load_hf_gpt2_weights(const TensorSource& source, const ModelConfig& config);
ModelWeights load_hf_gpt_neox_weights(const TensorSource& source, const ModelConfig& config);

}  // namespace headscope
