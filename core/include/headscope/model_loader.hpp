// Loading a model from disk: a llama2.c checkpoint (+ tokenizer.bin), a GGUF file, or a
// Hugging Face directory (config.json + safetensors + tokenizer.json). Never downloads.
#pragma once

#include <memory>
#include <string>

#include "headscope/error.hpp"
#include "headscope/hooked_transformer.hpp"
#include "headscope/tokenizer.hpp"

namespace headscope {

// The work would not fit in the memory allowed (the estimate and the limit are in the message).
class ResourceError : public Error {
public:
    using Error::Error;
};

enum class ModelFormat { llama2c, gguf, huggingface };
const char* to_string(ModelFormat f);

struct LoadOptions {
    // llama2.c only: its tokenizer.bin. When empty, tokenizer.bin or tok<vocab>.bin next to the
    // checkpoint is used.
    std::string tokenizer_path;
    ComputeOptions compute;
    // Memory budget: load_model refuses (ResourceError) when the estimated peak exceeds it.
    // 0 = the memory available now (MemAvailable); a negative value disables the check.
    double max_memory_gb = 0;
    int64_t planned_tokens = 2048;  // prompt length the estimate allows for activations
};

// What a checkpoint holds, from its config and tensor headers only (no weight is read).
struct ModelDescription {
    std::string path;
    ModelFormat format = ModelFormat::llama2c;
    ModelConfig config;
    int64_t parameters = 0;
    int64_t stored_bytes = 0;              // weights as stored (tied output once)
    int64_t largest_layer_parameters = 0;
    std::string storage_types;             // e.g. "bf16" or "f32, q4_0"
    bool quantized = false;                // some layer weights stay quantised (GGUF q8_0/q4_0)
};
ModelDescription describe_model(const std::string& path);

// The peak a load + forward is expected to need, in bytes: the weights as stored (mapped), one
// layer converted to the compute dtype (or the whole model when it will be resident), and the
// activations of `tokens` positions (residual, attention, MLP and logits).
struct MemoryEstimate {
    int64_t weights = 0, converted = 0, activations = 0;
    int64_t total() const { return weights + converted + activations; }
    std::string summary() const;  // "1.23 GB (weights 1.00 GB + converted 0.20 GB + activations 0.03 GB)"
};
MemoryEstimate estimate_memory(const ModelDescription& model, const ComputeOptions& compute, int64_t tokens);
// Throws ResourceError naming the estimate and the limit when it does not fit.
void check_memory_budget(const ModelDescription& model, const LoadOptions& options);

struct LoadedModel {
    std::shared_ptr<HookedTransformer> model;
    std::shared_ptr<const Tokenizer> tokenizer;
    std::string path;            // what was loaded
    std::string tokenizer_path;  // where the tokenizer came from (may equal path)
    ModelFormat format = ModelFormat::llama2c;
};

// Decides the format from the path (directory -> Hugging Face; "GGUF" magic -> GGUF;
// otherwise llama2.c). Refuses pickle checkpoints (pytorch_model.bin, .pt, .pth) with a message
// saying how to convert them. Throws FormatError / ConfigError / IoError.
ModelFormat detect_model_format(const std::string& path);
// Checks the memory budget, then maps the weights (views in the stored dtype) and builds the model.
LoadedModel load_model(const std::string& path, const LoadOptions& options = {});
// The model's tokenizer alone (no weight is read).
std::shared_ptr<const Tokenizer> load_model_tokenizer(const std::string& path, const std::string& tokenizer_path,
                                                      std::string* resolved_path = nullptr);

}  // namespace headscope
