// GGUF checkpoints (versions 1, 2 and 3): metadata, tensor directory and tensor data
// (f32, f16, bf16, q8_0, q4_0: in place in a memory map, or dequantised to float32). The whole header is validated on open:
// every count, string length, tensor offset and size is checked against the file size, so no
// later read can go past the end, whatever the bytes. Torch-free.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "headscope/model_config.hpp"
#include "headscope/tensor_source.hpp"
#include "headscope/tokenizer.hpp"

namespace headscope {

// One metadata value. Integers of every GGUF width are widened to int64 (uint64 values above
// INT64_MAX are rejected), floats to double; arrays are homogeneous.
struct GgufValue {
    using Array = std::variant<std::vector<int64_t>, std::vector<double>, std::vector<std::string>,
                               std::vector<bool>>;
    std::variant<int64_t, double, bool, std::string, Array> value;
};

class GgufFile : public TensorSource {
public:
    // Reads and validates the file. Throws FormatError (file + problem) or IoError.
    explicit GgufFile(std::string path);
    ~GgufFile() override;

    uint32_t version() const;
    const std::string& path() const override;
    const std::vector<TensorInfo>& tensors() const override;
    void read_f32(const TensorInfo& info, float* dst) const override;
    MappedBytes mapped(const TensorInfo& info) const override;  // in place in the file's map

    const std::map<std::string, GgufValue>& metadata() const;
    std::optional<int64_t> get_int(const std::string& key) const;
    std::optional<double> get_float(const std::string& key) const;  // also accepts integers
    std::optional<std::string> get_string(const std::string& key) const;
    std::optional<std::vector<std::string>> get_strings(const std::string& key) const;
    std::optional<std::vector<double>> get_floats(const std::string& key) const;
    std::optional<std::vector<int64_t>> get_ints(const std::string& key) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// The file's ModelConfig: dense "llama" (also Mistral, Llama-3.x) is read here (rotary
// interleaved, as GGUF stores q/k); every other architecture, and llama with experts (Mixtral),
// by gguf_arch_settings. Unsupported architectures throw ConfigError naming the architecture and
// what is supported; missing required keys throw FormatError naming the key.
ModelConfig gguf_model_config(const GgufFile& file);

// Whether the file is a dense llama-architecture model (read by the llama loader), as opposed to
// one gguf_arch_settings reads.
bool gguf_is_dense_llama(const GgufFile& file);

// A rotary factor tensor (rope_freqs, rope_factors_long, rope_factors_short): n values, each
// finite and positive. Throws FormatError naming the file, the tensor and the problem.
std::vector<double> gguf_rope_factors(const GgufFile& file, const std::string& tensor, int n);

// tokenizer.ggml.{tokens,scores,token_type,bos_token_id,eos_token_id,unknown_token_id}
// for tokenizer.ggml.model == "llama". Throws FormatError when absent or inconsistent.
Vocabulary gguf_vocabulary(const GgufFile& file);

// GGUF llama tensor names (token_embd.weight, blk.{l}.attn_q.weight, ...), in one table.
namespace gguf_names {
std::string token_embd();
std::string output_norm();
std::string output();
std::string attn_norm(int layer);
std::string attn_q(int layer);
std::string attn_k(int layer);
std::string attn_v(int layer);
std::string attn_output(int layer);
std::string ffn_norm(int layer);
std::string ffn_gate(int layer);
std::string ffn_up(int layer);
std::string ffn_down(int layer);
}  // namespace gguf_names

}  // namespace headscope
