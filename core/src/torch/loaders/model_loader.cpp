#include "headscope/model_loader.hpp"

#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "headscope/error.hpp"
#include "headscope/formats/gguf_file.hpp"
#include "headscope/formats/gguf_tokenizer.hpp"
#include "headscope/formats/llama2c_file.hpp"
#include "loaders/hf_model.hpp"
#include "loaders/llama_family.hpp"

namespace headscope {

namespace fs = std::filesystem;

const char* to_string(ModelFormat f) {
    switch (f) {
        case ModelFormat::llama2c: return "llama2.c";
        case ModelFormat::gguf: return "gguf";
        case ModelFormat::huggingface: return "huggingface";
    }
    return "?";
}

namespace {

std::string read_magic(const std::string& path, size_t n) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw IoError(path + ": cannot open for reading");
    std::string magic(n, '\0');
    in.read(magic.data(), static_cast<std::streamsize>(n));
    magic.resize(static_cast<size_t>(in.gcount()));
    return magic;
}

[[noreturn]] void refuse_pickle(const std::string& path) {
    throw FormatError(path,
                      "pickle checkpoints (pytorch_model.bin, .pt, .pth) are refused: unpickling runs arbitrary code. "
                      "Convert it to safetensors first, e.g. in Python: "
                      "model = AutoModelForCausalLM.from_pretrained(dir); "
                      "model.save_pretrained(out_dir, safe_serialization=True)");
}

std::string find_llama2c_tokenizer(const std::string& model_path, int32_t vocab_size) {
    fs::path dir = fs::path(model_path).parent_path();
    for (const std::string& name : {std::string("tokenizer.bin"), fmt::format("tok{}.bin", vocab_size)}) {
        fs::path candidate = dir / name;
        if (fs::is_regular_file(candidate)) return candidate.string();
    }
    throw UsageError(fmt::format("{}: llama2.c checkpoints need their tokenizer: pass --tokenizer FILE "
                                 "(looked for tokenizer.bin and tok{}.bin next to the model)",
                                 model_path, vocab_size));
}

LoadedModel load_llama2c(const std::string& path, const LoadOptions& options) {
    Llama2cFile file(path);
    ModelConfig config = llama2c_model_config(file);
    LoadedModel out;
    out.format = ModelFormat::llama2c;
    out.path = path;
    out.tokenizer_path = options.tokenizer_path.empty() ? find_llama2c_tokenizer(path, config.d_vocab)
                                                        : options.tokenizer_path;
    out.tokenizer = make_sentencepiece_tokenizer(read_llama2c_vocabulary(out.tokenizer_path, config.d_vocab));
    ModelWeights weights = load_llama_weights(file, config, llama2c_llama_names());
    out.model = std::make_shared<HookedTransformer>(std::move(config), std::move(weights), options.compute);
    return out;
}

LoadedModel load_gguf(const std::string& path, const LoadOptions& options) {
    GgufFile file(path);
    ModelConfig config = gguf_model_config(file);
    LoadedModel out;
    out.format = ModelFormat::gguf;
    out.path = path;
    out.tokenizer_path = path;
    out.tokenizer = gguf_tokenizer(file);
    if (out.tokenizer->vocab_size() != config.d_vocab)
        throw FormatError(path, fmt::format("the embedded vocabulary has {} tokens but token_embd.weight has {} rows",
                                            out.tokenizer->vocab_size(), config.d_vocab));
    ModelWeights weights = load_llama_weights(file, config, gguf_llama_names());
    out.model = std::make_shared<HookedTransformer>(std::move(config), std::move(weights), options.compute);
    return out;
}

}  // namespace

ModelFormat detect_model_format(const std::string& path) {
    std::error_code ec;
    if (!fs::exists(path, ec)) throw IoError(path + ": no such file or directory");
    if (fs::is_directory(path, ec)) return ModelFormat::huggingface;
    const std::string ext = fs::path(path).extension().string();
    const std::string name = fs::path(path).filename().string();
    if (ext == ".pt" || ext == ".pth" || name == "pytorch_model.bin") refuse_pickle(path);
    if (ext == ".safetensors")
        throw UsageError(path + ": pass the Hugging Face model directory (with config.json), not the .safetensors file");
    const std::string magic = read_magic(path, 4);
    if (magic == "GGUF") return ModelFormat::gguf;
    if (magic.size() >= 2 && (magic.substr(0, 2) == "PK" || static_cast<unsigned char>(magic[0]) == 0x80))
        refuse_pickle(path);
    return ModelFormat::llama2c;
}

LoadedModel load_model(const std::string& path, const LoadOptions& options) {
    switch (detect_model_format(path)) {
        case ModelFormat::gguf: return load_gguf(path, options);
        case ModelFormat::huggingface: return load_hf_model(path, options);
        case ModelFormat::llama2c: return load_llama2c(path, options);
    }
    throw UsageError(path + ": unknown model format");
}

}  // namespace headscope
