// The GGUF tensor names of the llama architecture, as llama.cpp's name table spells them.
#include <fmt/format.h>

#include "headscope/formats/gguf_file.hpp"

namespace headscope::gguf_names {

namespace {
struct Names {
    const char* token_embd = "token_embd";
    const char* output_norm = "output_norm";
    const char* output = "output";
    const char* attn_norm = "attn_norm";
    const char* attn_q = "attn_q";
    const char* attn_k = "attn_k";
    const char* attn_v = "attn_v";
    const char* attn_output = "attn_output";
    const char* ffn_norm = "ffn_norm";
    const char* ffn_gate = "ffn_gate";
    const char* ffn_up = "ffn_up";
    const char* ffn_down = "ffn_down";
};
constexpr Names kNames;

std::string global(const char* base) { return fmt::format("{}.weight", base); }
std::string block(int layer, const char* base) { return fmt::format("blk.{}.{}.weight", layer, base); }
}  // namespace

std::string token_embd() { return global(kNames.token_embd); }
std::string output_norm() { return global(kNames.output_norm); }
std::string output() { return global(kNames.output); }
std::string attn_norm(int layer) { return block(layer, kNames.attn_norm); }
std::string attn_q(int layer) { return block(layer, kNames.attn_q); }
std::string attn_k(int layer) { return block(layer, kNames.attn_k); }
std::string attn_v(int layer) { return block(layer, kNames.attn_v); }
std::string attn_output(int layer) { return block(layer, kNames.attn_output); }
std::string ffn_norm(int layer) { return block(layer, kNames.ffn_norm); }
std::string ffn_gate(int layer) { return block(layer, kNames.ffn_gate); }
std::string ffn_up(int layer) { return block(layer, kNames.ffn_up); }
std::string ffn_down(int layer) { return block(layer, kNames.ffn_down); }

}  // namespace headscope::gguf_names
