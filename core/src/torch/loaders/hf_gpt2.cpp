// Hugging Face GPT-2: Conv1D weights stored [in, out], fused c_attn (q | k | v), learned
// positions, tied unembedding. Names with or without the "transformer." prefix.
#include "loaders/hf_families.hpp"
#include "loaders/tensor_reader.hpp"

namespace headscope {

namespace {
// GPT-2 tensor names, in one table.
struct Gpt2Names {
    std::string prefix;  // "" or "transformer."
    std::string wte() const { return prefix + "wte.weight"; }
    std::string wpe() const { return prefix + "wpe.weight"; }
    std::string ln_f(const char* p) const { return prefix + "ln_f." + p; }
    std::string h(int l, const char* rest) const { return prefix + "h." + std::to_string(l) + "." + rest; }
};
}  // namespace

ModelWeights load_hf_gpt2_weights(const TensorSource& src, const ModelConfig& c) {
    Gpt2Names n{src.find("transformer.wte.weight") ? "transformer." : ""};
    const int64_t d = c.d_model, H = c.n_heads, dh = c.d_head, m = c.d_mlp, V = c.d_vocab;
    ModelWeights w;
    w.W_E = read_tensor(src, n.wte(), {V, d});
    w.W_pos = read_tensor(src, n.wpe(), {c.n_ctx, d});
    for (int l = 0; l < c.n_layers; ++l) {
        LayerWeights L;
        L.ln1_w = read_tensor(src, n.h(l, "ln_1.weight"), {d});
        L.ln1_b = read_tensor(src, n.h(l, "ln_1.bias"), {d});
        torch::Tensor qkv = read_tensor(src, n.h(l, "attn.c_attn.weight"), {d, 3 * H * dh});
        torch::Tensor qkv_b = read_tensor(src, n.h(l, "attn.c_attn.bias"), {3 * H * dh});
        // [in, out] with out = (q | k | v), each H*dh -> [H, d, dh]
        auto part = [&](int i) { return qkv.narrow(1, i * H * dh, H * dh).reshape({d, H, dh}).permute({1, 0, 2}); };
        auto bias = [&](int i) { return qkv_b.narrow(0, i * H * dh, H * dh).reshape({H, dh}); };
        L.W_Q = part(0), L.W_K = part(1), L.W_V = part(2);
        L.b_Q = bias(0), L.b_K = bias(1), L.b_V = bias(2);
        L.W_O = read_tensor(src, n.h(l, "attn.c_proj.weight"), {H * dh, d}).reshape({H, dh, d});
        L.b_O = read_tensor(src, n.h(l, "attn.c_proj.bias"), {d});
        L.ln2_w = read_tensor(src, n.h(l, "ln_2.weight"), {d});
        L.ln2_b = read_tensor(src, n.h(l, "ln_2.bias"), {d});
        L.W_in = read_tensor(src, n.h(l, "mlp.c_fc.weight"), {d, m});
        L.b_in = read_tensor(src, n.h(l, "mlp.c_fc.bias"), {m});
        L.W_out = read_tensor(src, n.h(l, "mlp.c_proj.weight"), {m, d});
        L.b_out = read_tensor(src, n.h(l, "mlp.c_proj.bias"), {d});
        w.layers.push_back(std::move(L));
    }
    w.ln_final_w = read_tensor(src, n.ln_f("weight"), {d});
    w.ln_final_b = read_tensor(src, n.ln_f("bias"), {d});
    w.W_U = w.W_E.t();  // GPT-2 always ties lm_head to wte
    return w;
}

}  // namespace headscope
