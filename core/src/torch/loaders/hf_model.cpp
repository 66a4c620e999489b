#include "loaders/hf_model.hpp"

#include <filesystem>

#include "headscope/error.hpp"
#include "headscope/formats/hf_config.hpp"
#include "headscope/formats/safetensors_file.hpp"
#include "loaders/hf_families.hpp"

namespace headscope {

LoadedModel load_hf_model(const std::string& directory, const LoadOptions& options) {
    ModelConfig config = read_hf_config(directory);
    SafetensorsCheckpoint checkpoint(directory);
    ModelWeights weights;
    switch (config.architecture) {
        case Architecture::gpt2: weights = load_hf_gpt2_weights(checkpoint, config); break;
        case Architecture::gpt_neox: weights = load_hf_gpt_neox_weights(checkpoint, config); break;
        case Architecture::llama: weights = load_hf_decoder_weights(checkpoint, config); break;
    }
    LoadedModel out;
    out.format = ModelFormat::huggingface;
    out.path = directory;
    out.tokenizer_path = (std::filesystem::path(directory) / "tokenizer.json").string();
    if (!std::filesystem::is_regular_file(out.tokenizer_path))
        throw FormatError(directory, "no tokenizer.json in the model directory (save it with "
                                     "tokenizer.save_pretrained(dir) from the Hugging Face tokenizers library)");
    out.tokenizer = load_hf_tokenizer(out.tokenizer_path);
    out.model = std::make_shared<HookedTransformer>(std::move(config), std::move(weights), options.compute);
    return out;
}

}  // namespace headscope
