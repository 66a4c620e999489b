// ModelConfig of a llama2.c checkpoint: the header gives the sizes; everything else is fixed by
// run.c (RMSNorm eps 1e-5, rotary theta 10000 on adjacent pairs over the whole head, SwiGLU,
// SentencePiece ids BOS 1 / EOS 2).
#include <filesystem>

#include <fmt/format.h>

#include "headscope/error.hpp"
#include "headscope/formats/llama2c_file.hpp"

namespace headscope {

ModelConfig llama2c_model_config(const Llama2cFile& file) {
    const Llama2cHeader& h = file.header();
    ModelConfig c;
    c.architecture = Architecture::llama;
    c.model_type = "llama";
    c.name = std::filesystem::path(file.path()).stem().string();
    c.n_layers = h.n_layers;
    c.d_model = h.dim;
    c.n_heads = h.n_heads;
    c.n_kv_heads = h.n_kv_heads;
    c.d_head = h.dim / h.n_heads;
    c.d_mlp = h.hidden_dim;
    c.d_vocab = h.vocab_size;
    c.n_ctx = h.seq_len;
    if (c.n_ctx > kMaxContextLength)
        throw FormatError(file.path(), fmt::format("header field seq_len is {} positions, more than headscope "
                                                   "accepts (the limit is {} = 2^24)",
                                                   c.n_ctx, kMaxContextLength));
    c.norm = NormKind::rms;
    c.norm_eps = 1e-5;
    c.positions = PositionKind::rotary;
    c.rope_theta = 10000.0;
    c.rotary_dim = c.d_head;
    c.rotary_style = RotaryStyle::interleaved;
    c.gated_mlp = true;
    c.activation = Activation::silu;
    c.final_norm = true;
    c.tied_embeddings = h.shared_classifier;
    c.bos_token_id = 1;
    c.eos_token_id = 2;
    try {
        c.validate();
    } catch (const ConfigError& e) {
        throw ConfigError(file.path() + ": " + e.what());
    }
    return c;
}

}  // namespace headscope
