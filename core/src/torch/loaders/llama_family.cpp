#include "loaders/llama_family.hpp"

#include "headscope/formats/gguf_file.hpp"
#include "headscope/formats/llama2c_file.hpp"
#include "loaders/tensor_reader.hpp"

namespace headscope {

const LlamaNameTable& gguf_llama_names() {
    static const LlamaNameTable table{
        gguf_names::token_embd, gguf_names::output_norm, gguf_names::output,   gguf_names::attn_norm,
        gguf_names::attn_q,     gguf_names::attn_k,      gguf_names::attn_v,   gguf_names::attn_output,
        gguf_names::ffn_norm,   gguf_names::ffn_gate,    gguf_names::ffn_up,   gguf_names::ffn_down,
    };
    return table;
}

const LlamaNameTable& llama2c_llama_names() {
    static const LlamaNameTable table{
        llama2c_names::tok_embeddings, llama2c_names::norm,     llama2c_names::output, llama2c_names::attention_norm,
        llama2c_names::wq,             llama2c_names::wk,       llama2c_names::wv,     llama2c_names::wo,
        llama2c_names::ffn_norm,       llama2c_names::w1,       llama2c_names::w3,     llama2c_names::w2,
    };
    return table;
}

ModelWeights load_llama_weights(const TensorSource& src, const ModelConfig& c, const LlamaNameTable& n) {
    const int64_t d = c.d_model, H = c.n_heads, K = c.n_kv_heads, dh = c.d_head, m = c.d_mlp, V = c.d_vocab;
    // A linear layer stored [out = heads*d_head, in = d_model] -> [heads, d_model, d_head].
    auto heads_in = [&](const std::string& name, int64_t heads) {
        return read_tensor(src, name, {heads * dh, d}).view({heads, dh, d}).permute({0, 2, 1}).contiguous();
    };
    auto bias = [&](std::string (*fn)(int), int layer, int64_t heads) {
        if (!fn) return torch::Tensor();
        torch::Tensor b = read_optional_tensor(src, fn(layer), {heads * dh});
        return b.defined() ? b.view({heads, dh}) : b;
    };
    ModelWeights w;
    w.W_E = read_tensor(src, n.token_embd(), {V, d});
    for (int l = 0; l < c.n_layers; ++l) {
        LayerWeights L;
        L.ln1_w = read_tensor(src, n.attn_norm(l), {d});
        L.W_Q = heads_in(n.attn_q(l), H);
        L.W_K = heads_in(n.attn_k(l), K);
        L.W_V = heads_in(n.attn_v(l), K);
        L.b_Q = bias(n.attn_q_bias, l, H);
        L.b_K = bias(n.attn_k_bias, l, K);
        L.b_V = bias(n.attn_v_bias, l, K);
        // o: [out = d_model, in = H*d_head] -> [H, d_head, d_model]
        L.W_O = read_tensor(src, n.attn_output(l), {d, H * dh}).t().reshape({H, dh, d}).contiguous();
        L.ln2_w = read_tensor(src, n.ffn_norm(l), {d});
        L.W_gate = read_tensor(src, n.ffn_gate(l), {m, d}).t().contiguous();
        L.W_in = read_tensor(src, n.ffn_up(l), {m, d}).t().contiguous();
        L.W_out = read_tensor(src, n.ffn_down(l), {d, m}).t().contiguous();
        w.layers.push_back(std::move(L));
    }
    w.ln_final_w = read_tensor(src, n.output_norm(), {d});
    if (c.tied_embeddings) {
        w.W_U = w.W_E.t();
    } else {
        w.W_U = read_tensor(src, n.output(), {V, d}).t().contiguous();
    }
    return w;
}

}  // namespace headscope
