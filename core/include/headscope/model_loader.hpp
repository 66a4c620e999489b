// Loading a model from disk: a llama2.c checkpoint (+ tokenizer.bin), a GGUF file, or a
// Hugging Face directory (config.json + safetensors + tokenizer.json). Never downloads.
#pragma once

#include <memory>
#include <string>

#include "headscope/hooked_transformer.hpp"
#include "headscope/tokenizer.hpp"

namespace headscope {

enum class ModelFormat { llama2c, gguf, huggingface };
const char* to_string(ModelFormat f);

struct LoadOptions {
    // llama2.c only: its tokenizer.bin. When empty, tokenizer.bin or tok<vocab>.bin next to the
    // checkpoint is used.
    std::string tokenizer_path;
    ComputeOptions compute;
};

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
LoadedModel load_model(const std::string& path, const LoadOptions& options = {});

}  // namespace headscope
