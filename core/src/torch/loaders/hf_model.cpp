#include "loaders/hf_model.hpp"

#include <filesystem>

#include "headscope/error.hpp"
#include "headscope/formats/hf_config.hpp"
#include "headscope/formats/safetensors_file.hpp"
#include "loaders/hf_families.hpp"

namespace headscope {

HfWeights load_hf_weights(const std::string& directory) {
    HfWeights out;
    out.config = read_hf_config(directory);
    auto checkpoint = std::make_shared<const SafetensorsCheckpoint>(directory);
    switch (out.config.architecture) {
        case Architecture::gpt2: out.weights = load_hf_gpt2_weights(*checkpoint, out.config); break;
        case Architecture::gpt_neox: out.weights = load_hf_gpt_neox_weights(*checkpoint, out.config); break;
        case Architecture::llama: out.weights = load_hf_decoder_weights(checkpoint, out.config); break;
    }
    out.source = std::move(checkpoint);
    return out;
}

std::string hf_tokenizer_path(const std::string& directory) {
    const std::string path = (std::filesystem::path(directory) / "tokenizer.json").string();
    if (!std::filesystem::is_regular_file(path))
        throw FormatError(directory, "no tokenizer.json in the model directory (save it with "
                                     "tokenizer.save_pretrained(dir) from the Hugging Face tokenizers library)");
    return path;
}

}  // namespace headscope
