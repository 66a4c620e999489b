// ModelConfig: everything about a transformer's shape and arithmetic that the forward pass
// needs, independent of the file format it came from. Torch-free.
#pragma once

#include <cstdint>
#include <string>

namespace headscope {

enum class Architecture { llama, gpt2, gpt_neox };
enum class NormKind { rms, layer };
enum class PositionKind { rotary, learned, none };
// Which dimensions of a head rotate together.
//  interleaved: pairs (2i, 2i+1) — llama2.c, GGUF llama, Meta checkpoints, GPT-J.
//  half:        pairs (i, i + rotary_dim/2) — Hugging Face llama/mistral/qwen2, GPT-NeoX.
enum class RotaryStyle { interleaved, half };
enum class Activation { silu, gelu_new, gelu, relu };

// The longest context a model file may declare: 2^24 = 16,777,216 positions, room for today's
// 1M-10M-token models. Readers refuse larger values (GGUF llama.context_length, config.json
// max_position_embeddings / n_positions, llama.c seq_len) naming the file, key and limit, so an
// absurd number in a header never sizes an allocation.
inline constexpr int kMaxContextLength = 1 << 24;

struct ModelConfig {
    Architecture architecture = Architecture::llama;
    std::string model_type = "llama";  // as the source names it: llama, mistral, qwen2, gpt2, gpt_neox
    std::string name;                  // free text, e.g. general.name of a GGUF file

    int n_layers = 0;
    int d_model = 0;
    int n_heads = 0;
    int n_kv_heads = 0;  // == n_heads unless grouped-query attention
    int d_head = 0;
    int d_mlp = 0;       // 0 for attention-only models
    int d_vocab = 0;
    int n_ctx = 0;  // at most kMaxContextLength

    NormKind norm = NormKind::rms;
    double norm_eps = 1e-5;

    PositionKind positions = PositionKind::rotary;
    double rope_theta = 10000.0;
    int rotary_dim = 0;  // dims of each head that rotate; d_head unless partial rotary (NeoX)
    RotaryStyle rotary_style = RotaryStyle::interleaved;

    bool parallel_residual = false;  // NeoX: x + attn(ln1(x)) + mlp(ln2(x))
    bool gated_mlp = true;           // SwiGLU: down(act(gate(x)) * up(x))
    Activation activation = Activation::silu;
    bool attn_only = false;
    bool tied_embeddings = false;
    bool final_norm = true;

    int bos_token_id = -1;
    int eos_token_id = -1;

    // Query heads per kv head; query head h reads kv head h / group_size().
    int group_size() const { return n_kv_heads > 0 ? n_heads / n_kv_heads : 1; }
    // Throws ConfigError naming the first inconsistent field.
    void validate() const;
};

const char* to_string(Architecture a);
const char* to_string(NormKind n);
const char* to_string(PositionKind p);
const char* to_string(RotaryStyle r);
const char* to_string(Activation a);

}  // namespace headscope
