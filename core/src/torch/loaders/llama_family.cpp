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

ModelWeights load_llama_weights(const std::shared_ptr<const TensorSource>& source, const ModelConfig& c,
                                const LlamaNameTable& n) {
    const TensorSource& src = *source;
    const int64_t d = c.d_model, H = c.n_heads, K = c.n_kv_heads, dh = c.d_head, m = c.d_mlp, V = c.d_vocab;
    // Every layout below is a view of the stored [out, in] matrix (no copy).
    // [heads*d_head, d_model] -> [heads, d_model, d_head]
    auto heads_in = [dh, d](int64_t heads) {
        return [=](const torch::Tensor& t) { return t.view({heads, dh, d}).permute({0, 2, 1}); };
    };
    // [d_model, H*d_head] -> [H, d_head, d_model]
    auto heads_out = [=](const torch::Tensor& t) { return t.t().view({H, dh, d}); };
    auto transposed = [](const torch::Tensor& t) { return t.t(); };
    auto as_heads = [dh](int64_t heads) { return [=](const torch::Tensor& t) { return t.view({heads, dh}); }; };
    auto same = [](const torch::Tensor& t) { return t; };

    ModelWeights w;
    w.W_E = read_tensor(src, n.token_embd(), {V, d});
    w.layers.resize(static_cast<size_t>(c.n_layers));
    LayerTensorLoader load(source, w);
    for (int l = 0; l < c.n_layers; ++l) {
        load.load(l, &LayerWeights::ln1_w, n.attn_norm(l), {d}, same);
        load.load(l, &LayerWeights::W_Q, n.attn_q(l), {H * dh, d}, heads_in(H));
        load.load(l, &LayerWeights::W_K, n.attn_k(l), {K * dh, d}, heads_in(K));
        load.load(l, &LayerWeights::W_V, n.attn_v(l), {K * dh, d}, heads_in(K));
        if (n.attn_q_bias) load.load(l, &LayerWeights::b_Q, n.attn_q_bias(l), {H * dh}, as_heads(H), true);
        if (n.attn_k_bias) load.load(l, &LayerWeights::b_K, n.attn_k_bias(l), {K * dh}, as_heads(K), true);
        if (n.attn_v_bias) load.load(l, &LayerWeights::b_V, n.attn_v_bias(l), {K * dh}, as_heads(K), true);
        load.load(l, &LayerWeights::W_O, n.attn_output(l), {d, H * dh}, heads_out);
        load.load(l, &LayerWeights::ln2_w, n.ffn_norm(l), {d}, same);
        load.load(l, &LayerWeights::W_gate, n.ffn_gate(l), {m, d}, transposed);
        load.load(l, &LayerWeights::W_in, n.ffn_up(l), {m, d}, transposed);
        load.load(l, &LayerWeights::W_out, n.ffn_down(l), {d, m}, transposed);
    }
    w.ln_final_w = read_tensor(src, n.output_norm(), {d});
    w.W_U = c.tied_embeddings ? w.W_E.t() : read_tensor(src, n.output(), {V, d}).t();
    return w;
}

}  // namespace headscope
