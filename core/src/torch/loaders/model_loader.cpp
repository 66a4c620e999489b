#include "headscope/model_loader.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "headscope/error.hpp"
#include "headscope/formats/gguf_arch.hpp"
#include "headscope/formats/gguf_file.hpp"
#include "headscope/formats/gguf_tokenizer.hpp"
#include "headscope/formats/llama2c_file.hpp"
#include "headscope/formats/safetensors_file.hpp"
#include "loaders/gguf_decoder.hpp"
#include "loaders/hf_model.hpp"
#include "loaders/llama_family.hpp"
#include "loaders/tensor_reader.hpp"

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

// A checkpoint's config and weights (views of its map), and where its tokenizer is.
struct Prepared {
    ModelFormat format = ModelFormat::llama2c;
    ModelConfig config;
    ModelWeights weights;
    std::shared_ptr<const TensorSource> source;
};

Prepared prepare(const std::string& path, ModelFormat format) {
    Prepared p;
    p.format = format;
    switch (format) {
        case ModelFormat::llama2c: {
            auto file = std::make_shared<const Llama2cFile>(path);
            p.config = llama2c_model_config(*file);
            p.weights = load_llama_weights(file, p.config, llama2c_llama_names());
            p.source = file;
            break;
        }
        case ModelFormat::gguf: {
            auto file = std::make_shared<const GgufFile>(path);
            p.config = gguf_model_config(*file);
            if (gguf_is_dense_llama(*file))
                p.weights = load_llama_weights(file, p.config, gguf_llama_names());
            else
                p.weights = load_gguf_arch_weights(file, p.config, gguf_arch_settings(*file));
            p.source = file;
            break;
        }
        case ModelFormat::huggingface: {
            HfWeights hf = load_hf_weights(path);
            p.config = std::move(hf.config);
            p.weights = std::move(hf.weights);
            p.source = std::move(hf.source);
            break;
        }
    }
    return p;
}

std::shared_ptr<const Tokenizer> tokenizer_of(const Prepared* p, const std::string& path, ModelFormat format,
                                              const std::string& tokenizer_path, std::string* resolved) {
    switch (format) {
        case ModelFormat::llama2c: {
            std::unique_ptr<Llama2cFile> own;
            const auto* file = p ? dynamic_cast<const Llama2cFile*>(p->source.get()) : nullptr;
            if (!file) file = (own = std::make_unique<Llama2cFile>(path)).get();
            const int32_t vocab = llama2c_model_config(*file).d_vocab;
            *resolved = tokenizer_path.empty() ? find_llama2c_tokenizer(path, vocab) : tokenizer_path;
            return make_sentencepiece_tokenizer(read_llama2c_vocabulary(*resolved, vocab));
        }
        case ModelFormat::gguf: {
            std::unique_ptr<GgufFile> own;
            const auto* file = p ? dynamic_cast<const GgufFile*>(p->source.get()) : nullptr;
            if (!file) file = (own = std::make_unique<GgufFile>(path)).get();
            *resolved = path;
            auto tokenizer = gguf_tokenizer(*file);
            const int64_t rows = gguf_model_config(*file).d_vocab;
            if (tokenizer->vocab_size() != rows)
                throw FormatError(path, fmt::format("the embedded vocabulary has {} tokens but token_embd.weight has {} rows",
                                                    tokenizer->vocab_size(), rows));
            return tokenizer;
        }
        case ModelFormat::huggingface: *resolved = hf_tokenizer_path(path); return load_hf_tokenizer(*resolved);
    }
    throw UsageError(path + ": unknown model format");
}

std::string storage_types(const TensorSource& source) {
    std::vector<std::string> names;
    for (const TensorInfo& t : source.tensors()) {
        const std::string n = to_string(t.type);
        if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
    }
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
}

}  // namespace

ModelFormat detect_model_format(const std::string& path) {
    std::error_code ec;
    if (!fs::exists(path, ec)) throw IoError(path + ": no such file or directory");
    if (fs::is_directory(path, ec)) return ModelFormat::huggingface;
    const std::string ext = fs::path(path).extension().string();
    const std::string magic = read_magic(path, 4);
    if (is_pickle_checkpoint(path, reinterpret_cast<const unsigned char*>(magic.data()), magic.size()))
        refuse_pickle_checkpoint(path);
    if (ext == ".safetensors")
        throw UsageError(path + ": pass the Hugging Face model directory (with config.json), not the .safetensors file");
    if (magic == "GGUF") return ModelFormat::gguf;
    return ModelFormat::llama2c;
}

ModelDescription describe_model(const std::string& path) {
    ShapesOnly shapes_only;  // reads headers, never weights
    Prepared p = prepare(path, detect_model_format(path));
    validate_weights(p.config, p.weights);
    ModelDescription d;
    d.path = path;
    d.format = p.format;
    d.parameters = parameter_count(p.weights);
    d.stored_bytes = stored_weight_bytes(p.weights);
    d.largest_layer_parameters = largest_layer_parameters(p.weights);
    d.storage_types = storage_types(*p.source);
    d.quantized = holds_quantized(p.weights);
    d.config = std::move(p.config);
    return d;
}

LoadedModel load_model(const std::string& path, const LoadOptions& options) {
    const ModelFormat format = detect_model_format(path);
    check_memory_budget(describe_model(path), options);
    Prepared p = prepare(path, format);
    LoadedModel out;
    out.format = format;
    out.path = path;
    out.tokenizer = tokenizer_of(&p, path, format, options.tokenizer_path, &out.tokenizer_path);
    out.model = std::make_shared<HookedTransformer>(std::move(p.config), std::move(p.weights), options.compute);
    return out;
}

std::shared_ptr<const Tokenizer> load_model_tokenizer(const std::string& path, const std::string& tokenizer_path,
                                                      std::string* resolved_path) {
    std::string resolved;
    auto tokenizer = tokenizer_of(nullptr, path, detect_model_format(path), tokenizer_path, &resolved);
    if (resolved_path) *resolved_path = resolved;
    return tokenizer;
}

}  // namespace headscope
