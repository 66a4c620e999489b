// llama2.c checkpoints (Karpathy's run.c format, "version 0"): a header of seven int32
// (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size — negative when the classifier is
// untied — and seq_len), then float32 weights in run.c's order. The reader exposes each layer's
// weights as a separate tensor under the names below (Meta's checkpoint names), with the
// row-major [out, in] shapes run.c uses. Sizes are validated against the file size. Torch-free.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "headscope/model_config.hpp"
#include "headscope/tensor_source.hpp"

namespace headscope {

struct Llama2cHeader {
    int32_t dim = 0, hidden_dim = 0, n_layers = 0, n_heads = 0, n_kv_heads = 0, vocab_size = 0,
            seq_len = 0;
    bool shared_classifier = true;
};

class Llama2cFile : public TensorSource {
public:
    explicit Llama2cFile(std::string path);  // throws FormatError / IoError
    ~Llama2cFile() override;

    const Llama2cHeader& header() const;
    const std::string& path() const override;
    const std::vector<TensorInfo>& tensors() const override;
    void read_f32(const TensorInfo& info, float* dst) const override;
    MappedBytes mapped(const TensorInfo& info) const override;  // in place in the file's map

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Rotary interleaved, RMSNorm eps 1e-5, theta 10000, SwiGLU, bos 1 / eos 2.
ModelConfig llama2c_model_config(const Llama2cFile& file);

// Tensor names the reader gives (Meta checkpoint names).
namespace llama2c_names {
std::string tok_embeddings();                 // [vocab, dim]
std::string norm();                           // [dim]
std::string output();                         // [vocab, dim], only when not shared
std::string attention_norm(int layer);        // [dim]
std::string wq(int layer);                    // [n_heads*head_size, dim]
std::string wk(int layer);                    // [n_kv_heads*head_size, dim]
std::string wv(int layer);                    // [n_kv_heads*head_size, dim]
std::string wo(int layer);                    // [dim, n_heads*head_size]
std::string ffn_norm(int layer);              // [dim]
std::string w1(int layer);                    // gate [hidden, dim]
std::string w2(int layer);                    // down [dim, hidden]
std::string w3(int layer);                    // up   [hidden, dim]
}  // namespace llama2c_names

}  // namespace headscope
