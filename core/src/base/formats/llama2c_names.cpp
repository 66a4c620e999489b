// Tensor names for llama2.c checkpoints: Meta's original checkpoint names, which llama2.c's
// export.py reads from (tok_embeddings.weight, layers.{l}.attention.wq.weight, ...).
#include <fmt/format.h>

#include "headscope/formats/llama2c_file.hpp"

namespace headscope::llama2c_names {

namespace {
struct Names {
    const char* tok_embeddings = "tok_embeddings";
    const char* norm = "norm";
    const char* output = "output";
    const char* attention_norm = "attention_norm";
    const char* wq = "attention.wq";
    const char* wk = "attention.wk";
    const char* wv = "attention.wv";
    const char* wo = "attention.wo";
    const char* ffn_norm = "ffn_norm";
    const char* w1 = "feed_forward.w1";
    const char* w2 = "feed_forward.w2";
    const char* w3 = "feed_forward.w3";
};
constexpr Names kNames;

std::string global(const char* base) { return fmt::format("{}.weight", base); }
std::string layer_tensor(int layer, const char* base) {
    return fmt::format("layers.{}.{}.weight", layer, base);
}
}  // namespace

std::string tok_embeddings() { return global(kNames.tok_embeddings); }
std::string norm() { return global(kNames.norm); }
std::string output() { return global(kNames.output); }
std::string attention_norm(int layer) { return layer_tensor(layer, kNames.attention_norm); }
std::string wq(int layer) { return layer_tensor(layer, kNames.wq); }
std::string wk(int layer) { return layer_tensor(layer, kNames.wk); }
std::string wv(int layer) { return layer_tensor(layer, kNames.wv); }
std::string wo(int layer) { return layer_tensor(layer, kNames.wo); }
std::string ffn_norm(int layer) { return layer_tensor(layer, kNames.ffn_norm); }
std::string w1(int layer) { return layer_tensor(layer, kNames.w1); }
std::string w2(int layer) { return layer_tensor(layer, kNames.w2); }
std::string w3(int layer) { return layer_tensor(layer, kNames.w3); }

}  // namespace headscope::llama2c_names
