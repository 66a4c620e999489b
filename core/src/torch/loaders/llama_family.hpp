// Llama-family weights ([out, in] linear layers: Meta/llama2.c, GGUF and Hugging Face
// llama/mistral/qwen2) into the canonical layout, driven by a per-format name table. Internal.
#pragma once

#include <memory>
#include <string>

#include "headscope/model_config.hpp"
#include "headscope/model_weights.hpp"
#include "headscope/tensor_source.hpp"

namespace headscope {

// Tensor names of one format. Bias entries may be null (format has no biases).
struct LlamaNameTable {
    std::string (*token_embd)();
    std::string (*output_norm)();
    std::string (*output)();
    std::string (*attn_norm)(int);
    std::string (*attn_q)(int);
    std::string (*attn_k)(int);
    std::string (*attn_v)(int);
    std::string (*attn_output)(int);
    std::string (*ffn_norm)(int);
    std::string (*ffn_gate)(int);
    std::string (*ffn_up)(int);
    std::string (*ffn_down)(int);
    std::string (*attn_q_bias)(int) = nullptr;
    std::string (*attn_k_bias)(int) = nullptr;
    std::string (*attn_v_bias)(int) = nullptr;
};

const LlamaNameTable& gguf_llama_names();
const LlamaNameTable& llama2c_llama_names();

// Every tensor named by `names`, as views of the mapped file in the stored dtype (quantised layer
// weights deferred); output absent <=> tied embeddings. The weights keep `source` alive.
ModelWeights load_llama_weights(const std::shared_ptr<const TensorSource>& source, const ModelConfig& config,
                                const LlamaNameTable& names);

}  // namespace headscope
