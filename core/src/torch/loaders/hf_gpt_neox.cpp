// Hugging Face GPT-NeoX (Pythia): fused query_key_value interleaved per head
// ([H, (q | k | v), d_head] along the output axis), Linear weights [out, in], untied embed_out.
#include "loaders/hf_families.hpp"
#include "loaders/tensor_reader.hpp"

namespace headscope {

namespace {
// GPT-NeoX tensor names, in one table.
struct NeoxNames {
    static std::string embed_in() { return "gpt_neox.embed_in.weight"; }
    static std::string final_norm(const char* p) { return std::string("gpt_neox.final_layer_norm.") + p; }
    static std::string embed_out() { return "embed_out.weight"; }
    static std::string layer(int l, const char* rest) { return "gpt_neox.layers." + std::to_string(l) + "." + rest; }
};
}  // namespace

ModelWeights load_hf_gpt_neox_weights(const TensorSource& src, const ModelConfig& c) {
    using N = NeoxNames;
    const int64_t d = c.d_model, H = c.n_heads, dh = c.d_head, m = c.d_mlp, V = c.d_vocab;
    ModelWeights w;
    w.W_E = read_tensor(src, N::embed_in(), {V, d});
    for (int l = 0; l < c.n_layers; ++l) {
        LayerWeights L;
        L.ln1_w = read_tensor(src, N::layer(l, "input_layernorm.weight"), {d});
        L.ln1_b = read_tensor(src, N::layer(l, "input_layernorm.bias"), {d});
        torch::Tensor qkv = read_tensor(src, N::layer(l, "attention.query_key_value.weight"), {3 * H * dh, d}).view({H, 3, dh, d});
        torch::Tensor qkv_b = read_tensor(src, N::layer(l, "attention.query_key_value.bias"), {3 * H * dh}).view({H, 3, dh});
        auto part = [&](int i) { return qkv.select(1, i).permute({0, 2, 1}); };  // [H, d, dh]
        L.W_Q = part(0), L.W_K = part(1), L.W_V = part(2);
        L.b_Q = qkv_b.select(1, 0), L.b_K = qkv_b.select(1, 1), L.b_V = qkv_b.select(1, 2);
        L.W_O = read_tensor(src, N::layer(l, "attention.dense.weight"), {d, H * dh}).t().reshape({H, dh, d});
        L.b_O = read_tensor(src, N::layer(l, "attention.dense.bias"), {d});
        L.ln2_w = read_tensor(src, N::layer(l, "post_attention_layernorm.weight"), {d});
        L.ln2_b = read_tensor(src, N::layer(l, "post_attention_layernorm.bias"), {d});
        L.W_in = read_tensor(src, N::layer(l, "mlp.dense_h_to_4h.weight"), {m, d}).t();
        L.b_in = read_tensor(src, N::layer(l, "mlp.dense_h_to_4h.bias"), {m});
        L.W_out = read_tensor(src, N::layer(l, "mlp.dense_4h_to_h.weight"), {d, m}).t();
        L.b_out = read_tensor(src, N::layer(l, "mlp.dense_4h_to_h.bias"), {d});
        w.layers.push_back(std::move(L));
    }
    w.ln_final_w = read_tensor(src, N::final_norm("weight"), {d});
    w.ln_final_b = read_tensor(src, N::final_norm("bias"), {d});
    w.W_U = c.tied_embeddings ? w.W_E.t() : read_tensor(src, N::embed_out(), {V, d}).t();
    return w;
}

}  // namespace headscope
