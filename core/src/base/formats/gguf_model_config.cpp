// ModelConfig from a GGUF file's llama.* metadata (llama.cpp's key names) and tensor shapes.
#include <climits>
#include <cmath>

#include <fmt/format.h>

#include "formats/tensor_lookup.hpp"
#include "headscope/error.hpp"
#include "headscope/formats/gguf_arch.hpp"
#include "headscope/formats/gguf_file.hpp"

namespace headscope {

namespace {
constexpr const char* kArchitectureKey = "general.architecture";
constexpr const char* kNameKey = "general.name";

// llama.cpp's LLM_KV_* keys, for the "llama" architecture prefix.
struct LlamaKeys {
    const char* context_length = "llama.context_length";
    const char* embedding_length = "llama.embedding_length";
    const char* block_count = "llama.block_count";
    const char* feed_forward_length = "llama.feed_forward_length";
    const char* head_count = "llama.attention.head_count";
    const char* head_count_kv = "llama.attention.head_count_kv";
    const char* key_length = "llama.attention.key_length";
    const char* value_length = "llama.attention.value_length";
    const char* rms_epsilon = "llama.attention.layer_norm_rms_epsilon";
    const char* rope_freq_base = "llama.rope.freq_base";
    const char* rope_dimension_count = "llama.rope.dimension_count";
    const char* rope_scaling_type = "llama.rope.scaling.type";
    const char* rope_scaling_factor = "llama.rope.scaling.factor";
    const char* rope_scale_linear = "llama.rope.scale_linear";
    const char* expert_count = "llama.expert_count";
    const char* vocab_size = "llama.vocab_size";
    const char* tokens = "tokenizer.ggml.tokens";
    const char* bos = "tokenizer.ggml.bos_token_id";
    const char* eos = "tokenizer.ggml.eos_token_id";
};
constexpr LlamaKeys kKeys;
constexpr const char* kRopeFreqs = "rope_freqs.weight";

class MetadataReader {
public:
    explicit MetadataReader(const GgufFile& file) : file_(file) {}

    [[noreturn]] void fail(const std::string& problem) const { throw FormatError(file_.path(), problem); }

    int required_int(const char* key) const {
        auto v = file_.get_int(key);
        if (!v) fail(fmt::format("missing required metadata key '{}'", key));
        return positive_int(key, *v);
    }
    std::optional<int> optional_int(const char* key) const {
        auto v = file_.get_int(key);
        if (!v) return std::nullopt;
        return positive_int(key, *v);
    }
    double required_positive_float(const char* key) const {
        auto v = file_.get_float(key);
        if (!v) fail(fmt::format("missing required metadata key '{}'", key));
        if (!(*v > 0)) fail(fmt::format("metadata key '{}' is {}, expected a positive number", key, *v));
        return *v;
    }
    std::optional<double> optional_positive_float(const char* key) const {
        auto v = file_.get_float(key);
        if (v && !(*v > 0)) fail(fmt::format("metadata key '{}' is {}, expected a positive number", key, *v));
        return v;
    }
    // Token ids may legitimately be 0; absent means "none" (-1).
    int token_id(const char* key) const {
        auto v = file_.get_int(key);
        if (!v) return -1;
        if (*v < 0 || *v > INT_MAX)
            fail(fmt::format("metadata key '{}' is {}, expected a token id", key, *v));
        return static_cast<int>(*v);
    }

private:
    int positive_int(const char* key, int64_t v) const {
        if (v <= 0 || v > INT_MAX)
            fail(fmt::format("metadata key '{}' is {}, expected a positive integer below 2^31", key, v));
        return static_cast<int>(v);
    }
    const GgufFile& file_;
};

// The vocabulary size: rows of token_embd.weight (checked against d_model), else the
// metadata that names it.
int vocab_size(const GgufFile& file, const MetadataReader& meta, int d_model) {
    if (const TensorInfo* emb = file.find(gguf_names::token_embd())) {
        if (emb->shape.size() != 2 || emb->shape[1] != d_model || emb->shape[0] > INT_MAX)
            meta.fail(fmt::format("tensor '{}' has shape {}, expected [n_vocab, {}] ({} is {})", emb->name,
                                  formats::shape_string(emb->shape), d_model, kKeys.embedding_length,
                                  d_model));
        return static_cast<int>(emb->shape[0]);
    }
    if (auto n = meta.optional_int(kKeys.vocab_size)) return *n;
    if (auto tokens = file.get_strings(kKeys.tokens); tokens && !tokens->empty() && tokens->size() <= INT_MAX)
        return static_cast<int>(tokens->size());
    meta.fail(fmt::format("cannot tell the vocabulary size: no tensor '{}', no '{}' and no '{}'",
                          gguf_names::token_embd(), kKeys.vocab_size, kKeys.tokens));
}

// The "llama" architecture (also Mistral), read from its llama.* keys.
ModelConfig llama_config(const GgufFile& file, const MetadataReader& meta) {
    ModelConfig c;
    c.architecture = Architecture::llama;
    c.model_type = "llama";
    c.name = file.get_string(kNameKey).value_or("");
    c.n_ctx = meta.required_int(kKeys.context_length);
    if (c.n_ctx > kMaxContextLength)
        meta.fail(fmt::format("metadata key '{}' is {} positions, more than headscope accepts (the limit is "
                              "{} = 2^24)",
                              kKeys.context_length, c.n_ctx, kMaxContextLength));
    c.d_model = meta.required_int(kKeys.embedding_length);
    c.n_layers = meta.required_int(kKeys.block_count);
    c.d_mlp = meta.required_int(kKeys.feed_forward_length);
    c.n_heads = meta.required_int(kKeys.head_count);
    c.n_kv_heads = meta.optional_int(kKeys.head_count_kv).value_or(c.n_heads);
    c.norm = NormKind::rms;
    c.norm_eps = meta.required_positive_float(kKeys.rms_epsilon);

    if (auto key_length = meta.optional_int(kKeys.key_length)) {
        auto value_length = meta.optional_int(kKeys.value_length);
        if (value_length && *value_length != *key_length)
            throw ConfigError(fmt::format("{}: {} ({}) differs from {} ({}); headscope needs one head size",
                                          file.path(), kKeys.key_length, *key_length, kKeys.value_length,
                                          *value_length));
        c.d_head = *key_length;
    } else {
        if (c.d_model % c.n_heads != 0)
            throw ConfigError(fmt::format("{}: {} ({}) is not divisible by {} ({})", file.path(),
                                          kKeys.embedding_length, c.d_model, kKeys.head_count, c.n_heads));
        c.d_head = c.d_model / c.n_heads;
    }

    c.positions = PositionKind::rotary;
    c.rotary_style = RotaryStyle::interleaved;  // GGUF llama stores q/k for adjacent-pair rotation
    c.rope_theta = meta.optional_positive_float(kKeys.rope_freq_base).value_or(10000.0);
    c.rotary_dim = meta.optional_int(kKeys.rope_dimension_count).value_or(c.d_head);
    if (c.rotary_dim <= 0 || c.rotary_dim > c.d_head || c.rotary_dim % 2 != 0)
        meta.fail(fmt::format("metadata key '{}' is {}, expected an even number up to the head size {}",
                              kKeys.rope_dimension_count, c.rotary_dim, c.d_head));
    // Llama-3.1+: llama.cpp's converter stores the llama3 scaling as one divisor per frequency.
    if (file.find(kRopeFreqs)) {
        c.rope_scaling.kind = RopeScalingKind::freq_factors;
        c.rope_scaling.freq_factors = gguf_rope_factors(file, kRopeFreqs, c.rotary_dim / 2);
    }
    const std::string scaling = file.get_string(kKeys.rope_scaling_type).value_or("none");
    const auto factor = meta.optional_positive_float(kKeys.rope_scaling_factor);
    const auto linear = meta.optional_positive_float(kKeys.rope_scale_linear);  // the key before rope.scaling.*
    if (scaling == "linear" || (scaling == "none" && linear && *linear != 1.0)) {
        if (c.rope_scaling.kind != RopeScalingKind::none)
            meta.fail(fmt::format("both linear rotary scaling ('{}') and the tensor '{}'", kKeys.rope_scaling_type,
                                  kRopeFreqs));
        c.rope_scaling.kind = RopeScalingKind::linear;
        c.rope_scaling.factor = factor ? *factor : linear.value_or(1.0);
    } else if (scaling != "none") {
        throw ConfigError(fmt::format("{}: rotary scaling '{}' ({}) is not supported for llama GGUF files yet",
                                      file.path(), scaling, kKeys.rope_scaling_type));
    }

    c.gated_mlp = true;
    c.activation = Activation::silu;
    c.final_norm = true;
    c.d_vocab = vocab_size(file, meta, c.d_model);
    const TensorInfo* output = file.find(gguf_names::output());
    c.tied_embeddings = output == nullptr;
    if (output && output->shape != std::vector<int64_t>{c.d_vocab, c.d_model})
        meta.fail(fmt::format("tensor '{}' has shape {}, expected [{}, {}] (n_vocab, d_model)", output->name,
                              formats::shape_string(output->shape), c.d_vocab, c.d_model));
    c.bos_token_id = meta.token_id(kKeys.bos);
    c.eos_token_id = meta.token_id(kKeys.eos);
    return c;
}

}  // namespace

bool gguf_is_dense_llama(const GgufFile& file) {
    return file.get_string(kArchitectureKey).value_or("") == "llama" && file.get_int(kKeys.expert_count).value_or(0) == 0;
}

std::vector<double> gguf_rope_factors(const GgufFile& file, const std::string& tensor, int n) {
    const TensorInfo* t = file.find(tensor);
    if (!t) throw FormatError(file.path(), fmt::format("tensor '{}' is missing", tensor));
    if (t->shape != std::vector<int64_t>{n})
        throw FormatError(file.path(), fmt::format("tensor '{}' has shape {}, expected [{}] (rotary dimensions / 2)",
                                                   tensor, formats::shape_string(t->shape), n));
    std::vector<float> values(static_cast<size_t>(n));
    file.read_f32(*t, values.data());
    for (int i = 0; i < n; ++i)
        if (!std::isfinite(values[static_cast<size_t>(i)]) || !(values[static_cast<size_t>(i)] > 0))
            throw FormatError(file.path(), fmt::format("tensor '{}' holds {} at index {}, expected a positive factor",
                                                       tensor, values[static_cast<size_t>(i)], i));
    return {values.begin(), values.end()};
}

ModelConfig gguf_model_config(const GgufFile& file) {
    MetadataReader meta(file);
    const auto arch = file.get_string(kArchitectureKey);
    if (!arch) meta.fail(fmt::format("missing required metadata key '{}'", kArchitectureKey));
    ModelConfig c = gguf_is_dense_llama(file) ? llama_config(file, meta)
                                              : gguf_arch_model_config(file, gguf_arch_settings(file));
    try {
        c.validate();
    } catch (const ConfigError& e) {
        throw ConfigError(file.path() + ": " + e.what());
    }
    return c;
}

}  // namespace headscope
