// Hugging Face RMSNorm decoders (llama, mistral, qwen2, qwen3, gemma, gemma2, gemma3, phi3,
// olmo2): one tensor-name table per family in one style (llama.cpp's LLM_TENSOR_NAMES + tn()),
// read into the canonical layout by one loader.
#include <map>

#include <fmt/format.h>

#include "headscope/error.hpp"
#include "loaders/hf_families.hpp"
#include "loaders/tensor_reader.hpp"

namespace headscope {

namespace {

enum class Tn {
    token_embd, output_norm, output,                           // model level
    attn_norm, attn_q, attn_k, attn_v, attn_qkv, attn_output,  // per layer ("{L}" = layer)
    attn_q_norm, attn_k_norm, attn_post_norm,
    ffn_norm, ffn_gate, ffn_up, ffn_gate_up, ffn_down, ffn_post_norm,
};
using NameTable = std::map<Tn, const char*>;

// Paths below the language model's prefix ("model." for text checkpoints).
const NameTable kLlama{
    {Tn::token_embd, "embed_tokens"}, {Tn::output_norm, "norm"},
    {Tn::attn_norm, "layers.{L}.input_layernorm"},
    {Tn::attn_q, "layers.{L}.self_attn.q_proj"}, {Tn::attn_k, "layers.{L}.self_attn.k_proj"},
    {Tn::attn_v, "layers.{L}.self_attn.v_proj"}, {Tn::attn_output, "layers.{L}.self_attn.o_proj"},
    {Tn::attn_q_norm, "layers.{L}.self_attn.q_norm"}, {Tn::attn_k_norm, "layers.{L}.self_attn.k_norm"},
    {Tn::ffn_norm, "layers.{L}.post_attention_layernorm"},
    {Tn::ffn_gate, "layers.{L}.mlp.gate_proj"}, {Tn::ffn_up, "layers.{L}.mlp.up_proj"},
    {Tn::ffn_down, "layers.{L}.mlp.down_proj"},
};
// Gemma-2/3: four norms per layer; "post_attention_layernorm" is the attention OUTPUT norm.
const NameTable kGemma2{
    {Tn::token_embd, "embed_tokens"}, {Tn::output_norm, "norm"},
    {Tn::attn_norm, "layers.{L}.input_layernorm"},
    {Tn::attn_q, "layers.{L}.self_attn.q_proj"}, {Tn::attn_k, "layers.{L}.self_attn.k_proj"},
    {Tn::attn_v, "layers.{L}.self_attn.v_proj"}, {Tn::attn_output, "layers.{L}.self_attn.o_proj"},
    {Tn::attn_q_norm, "layers.{L}.self_attn.q_norm"}, {Tn::attn_k_norm, "layers.{L}.self_attn.k_norm"},
    {Tn::attn_post_norm, "layers.{L}.post_attention_layernorm"},
    {Tn::ffn_norm, "layers.{L}.pre_feedforward_layernorm"},
    {Tn::ffn_post_norm, "layers.{L}.post_feedforward_layernorm"},
    {Tn::ffn_gate, "layers.{L}.mlp.gate_proj"}, {Tn::ffn_up, "layers.{L}.mlp.up_proj"},
    {Tn::ffn_down, "layers.{L}.mlp.down_proj"},
};
// Phi-3: fused qkv_proj [q | k | v] and gate_up_proj [gate | up].
const NameTable kPhi3{
    {Tn::token_embd, "embed_tokens"}, {Tn::output_norm, "norm"},
    {Tn::attn_norm, "layers.{L}.input_layernorm"},
    {Tn::attn_qkv, "layers.{L}.self_attn.qkv_proj"}, {Tn::attn_output, "layers.{L}.self_attn.o_proj"},
    {Tn::ffn_norm, "layers.{L}.post_attention_layernorm"},
    {Tn::ffn_gate_up, "layers.{L}.mlp.gate_up_proj"}, {Tn::ffn_down, "layers.{L}.mlp.down_proj"},
};
// OLMo-2: no input norms; post_attention_layernorm / post_feedforward_layernorm norm the outputs.
const NameTable kOlmo2{
    {Tn::token_embd, "embed_tokens"}, {Tn::output_norm, "norm"},
    {Tn::attn_q, "layers.{L}.self_attn.q_proj"}, {Tn::attn_k, "layers.{L}.self_attn.k_proj"},
    {Tn::attn_v, "layers.{L}.self_attn.v_proj"}, {Tn::attn_output, "layers.{L}.self_attn.o_proj"},
    {Tn::attn_q_norm, "layers.{L}.self_attn.q_norm"}, {Tn::attn_k_norm, "layers.{L}.self_attn.k_norm"},
    {Tn::attn_post_norm, "layers.{L}.post_attention_layernorm"},
    {Tn::ffn_post_norm, "layers.{L}.post_feedforward_layernorm"},
    {Tn::ffn_gate, "layers.{L}.mlp.gate_proj"}, {Tn::ffn_up, "layers.{L}.mlp.up_proj"},
    {Tn::ffn_down, "layers.{L}.mlp.down_proj"},
};

const NameTable& names_of(const std::string& type) {
    if (type == "gemma2" || type == "gemma3_text" || type == "gemma3") return kGemma2;
    if (type == "phi3") return kPhi3;
    if (type == "olmo2") return kOlmo2;
    return kLlama;
}

class Names {
public:
    Names(const TensorSource& src, const ModelConfig& c) : table_(names_of(c.model_type)) {
        // Gemma-3 with vision keeps its language model under another prefix.
        for (const char* p : {"model.", "language_model.model.", "model.language_model."})
            if (src.find(std::string(p) + "embed_tokens.weight")) {
                prefix_ = p;
                break;
            }
        if (prefix_ == "language_model.model.") lm_head_ = "language_model.lm_head.weight";
    }
    bool has(Tn t) const { return table_.count(t) != 0; }
    // tn(): the file's name of tensor t of layer l with suffix ("weight" / "bias").
    std::string operator()(Tn t, const char* suffix, int layer = -1) const {
        if (t == Tn::output) return lm_head_;
        std::string path = table_.at(t);
        if (auto at = path.find("{L}"); at != std::string::npos) path.replace(at, 3, std::to_string(layer));
        return prefix_ + path + "." + suffix;
    }

private:
    const NameTable& table_;
    std::string prefix_ = "model.";
    std::string lm_head_ = "lm_head.weight";
};

}  // namespace

ModelWeights load_hf_decoder_weights(const TensorSource& src, const ModelConfig& c) {
    const int64_t d = c.d_model, H = c.n_heads, K = c.n_kv_heads, dh = c.d_head, m = c.d_mlp, V = c.d_vocab;
    const Names tn(src, c);
    const double offset = c.norm_weight_offset;  // Gemma: the applied factor is 1 + w
    auto norm_w = [&](Tn t, int l, int64_t n) { return read_tensor(src, tn(t, "weight", l), {n}) + offset; };
    // [out = heads*d_head, in = d_model] -> [heads, d_model, d_head]
    auto heads_in = [&](const torch::Tensor& w, int64_t heads) {
        return w.view({heads, dh, d}).permute({0, 2, 1}).contiguous();
    };
    auto head_bias = [&](Tn t, int l, int64_t heads) {
        torch::Tensor b = read_optional_tensor(src, tn(t, "bias", l), {heads * dh});
        return b.defined() ? b.view({heads, dh}) : b;
    };
    ModelWeights w;
    w.W_E = read_tensor(src, tn(Tn::token_embd, "weight"), {V, d});
    for (int l = 0; l < c.n_layers; ++l) {
        LayerWeights L;
        if (tn.has(Tn::attn_norm)) L.ln1_w = norm_w(Tn::attn_norm, l, d);
        if (tn.has(Tn::attn_qkv)) {
            torch::Tensor qkv = read_tensor(src, tn(Tn::attn_qkv, "weight", l), {(H + 2 * K) * dh, d});
            L.W_Q = heads_in(qkv.narrow(0, 0, H * dh), H);
            L.W_K = heads_in(qkv.narrow(0, H * dh, K * dh), K);
            L.W_V = heads_in(qkv.narrow(0, (H + K) * dh, K * dh), K);
        } else {
            L.W_Q = heads_in(read_tensor(src, tn(Tn::attn_q, "weight", l), {H * dh, d}), H);
            L.W_K = heads_in(read_tensor(src, tn(Tn::attn_k, "weight", l), {K * dh, d}), K);
            L.W_V = heads_in(read_tensor(src, tn(Tn::attn_v, "weight", l), {K * dh, d}), K);
            L.b_Q = head_bias(Tn::attn_q, l, H);
            L.b_K = head_bias(Tn::attn_k, l, K);
            L.b_V = head_bias(Tn::attn_v, l, K);
        }
        // o: [out = d_model, in = H*d_head] -> [H, d_head, d_model]
        L.W_O = read_tensor(src, tn(Tn::attn_output, "weight", l), {d, H * dh}).t().reshape({H, dh, d}).contiguous();
        L.b_O = read_optional_tensor(src, tn(Tn::attn_output, "bias", l), {d});
        if (c.qk_norm != QkNorm::none) {
            const bool full = c.qk_norm == QkNorm::full_width;
            L.q_norm_w = norm_w(Tn::attn_q_norm, l, full ? H * dh : dh);
            L.k_norm_w = norm_w(Tn::attn_k_norm, l, full ? K * dh : dh);
        }
        if (c.post_norms()) {
            L.ln1_post_w = norm_w(Tn::attn_post_norm, l, d);
            L.ln2_post_w = norm_w(Tn::ffn_post_norm, l, d);
        }
        if (c.pre_norms()) L.ln2_w = norm_w(Tn::ffn_norm, l, d);
        if (tn.has(Tn::ffn_gate_up)) {
            torch::Tensor gu = read_tensor(src, tn(Tn::ffn_gate_up, "weight", l), {2 * m, d});
            L.W_gate = gu.narrow(0, 0, m).t().contiguous();
            L.W_in = gu.narrow(0, m, m).t().contiguous();
        } else {
            L.W_gate = read_tensor(src, tn(Tn::ffn_gate, "weight", l), {m, d}).t().contiguous();
            L.W_in = read_tensor(src, tn(Tn::ffn_up, "weight", l), {m, d}).t().contiguous();
            L.b_gate = read_optional_tensor(src, tn(Tn::ffn_gate, "bias", l), {m});
            L.b_in = read_optional_tensor(src, tn(Tn::ffn_up, "bias", l), {m});
        }
        L.W_out = read_tensor(src, tn(Tn::ffn_down, "weight", l), {d, m}).t().contiguous();
        L.b_out = read_optional_tensor(src, tn(Tn::ffn_down, "bias", l), {d});
        w.layers.push_back(std::move(L));
    }
    w.ln_final_w = read_tensor(src, tn(Tn::output_norm, "weight"), {d}) + offset;
    if (c.tied_embeddings) w.W_U = w.W_E.t();
    else w.W_U = read_tensor(src, tn(Tn::output, "weight"), {V, d}).t().contiguous();
    return w;
}

}  // namespace headscope
