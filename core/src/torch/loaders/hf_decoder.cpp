// Hugging Face RMSNorm decoders (llama, mistral, qwen2, qwen3, gemma, gemma2, gemma3, phi3,
// olmo2, and the mixture-of-experts mixtral, qwen2_moe, qwen3_moe, olmoe): one tensor-name table
// per family in one style (llama.cpp's LLM_TENSOR_NAMES + tn()), read into the canonical layout
// by one loader.
#include <map>
#include <memory>
#include <string>
#include <vector>

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
    ffn_gate_inp, ffn_gate_exp, ffn_up_exp, ffn_down_exp,  // mixture of experts ("{E}" = expert)
    ffn_gate_shexp, ffn_up_shexp, ffn_down_shexp, ffn_gate_inp_shexp,  // Qwen2-MoE's shared expert
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

NameTable extended(NameTable base, const NameTable& more) {
    for (const auto& [t, name] : more) base[t] = name;
    return base;
}
// Mixtral: Llama attention; block_sparse_moe with experts w1 (gate), w2 (down), w3 (up).
const NameTable kMixtral = extended(kLlama, {
    {Tn::ffn_gate_inp, "layers.{L}.block_sparse_moe.gate"},
    {Tn::ffn_gate_exp, "layers.{L}.block_sparse_moe.experts.{E}.w1"},
    {Tn::ffn_down_exp, "layers.{L}.block_sparse_moe.experts.{E}.w2"},
    {Tn::ffn_up_exp, "layers.{L}.block_sparse_moe.experts.{E}.w3"},
});
// Qwen2-MoE, Qwen3-MoE, OLMoE: mlp.gate router, mlp.experts.E.*_proj; Qwen2-MoE's shared expert.
// Dense layers (mlp_only_layers) keep mlp.gate_proj / up_proj / down_proj.
const NameTable kQwenMoe = extended(kLlama, {
    {Tn::ffn_gate_inp, "layers.{L}.mlp.gate"},
    {Tn::ffn_gate_exp, "layers.{L}.mlp.experts.{E}.gate_proj"},
    {Tn::ffn_up_exp, "layers.{L}.mlp.experts.{E}.up_proj"},
    {Tn::ffn_down_exp, "layers.{L}.mlp.experts.{E}.down_proj"},
    {Tn::ffn_gate_shexp, "layers.{L}.mlp.shared_expert.gate_proj"},
    {Tn::ffn_up_shexp, "layers.{L}.mlp.shared_expert.up_proj"},
    {Tn::ffn_down_shexp, "layers.{L}.mlp.shared_expert.down_proj"},
    {Tn::ffn_gate_inp_shexp, "layers.{L}.mlp.shared_expert_gate"},
});

const NameTable& names_of(const std::string& type) {
    if (type == "gemma2" || type == "gemma3_text" || type == "gemma3") return kGemma2;
    if (type == "phi3") return kPhi3;
    if (type == "olmo2") return kOlmo2;
    if (type == "mixtral") return kMixtral;
    if (type == "qwen2_moe" || type == "qwen3_moe" || type == "olmoe") return kQwenMoe;
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
    // tn(): the file's name of tensor t of layer l (and expert e) with suffix ("weight" / "bias").
    std::string operator()(Tn t, const char* suffix, int layer = -1, int expert = -1) const {
        if (t == Tn::output) return lm_head_;
        std::string path = table_.at(t);
        if (auto at = path.find("{L}"); at != std::string::npos) path.replace(at, 3, std::to_string(layer));
        if (auto at = path.find("{E}"); at != std::string::npos) path.replace(at, 3, std::to_string(expert));
        return prefix_ + path + "." + suffix;
    }

private:
    const NameTable& table_;
    std::string prefix_ = "model.";
    std::string lm_head_ = "lm_head.weight";
};

// The router, the E experts (one tensor each in the file, stacked [E, ...] when the layer is
// materialized) and Qwen2-MoE's shared expert of layer l.
void load_moe_layer(LayerTensorLoader& load, const Names& tn, const ModelConfig& c, int l) {
    const int64_t d = c.d_model, E = c.moe.n_experts, f = c.moe.d_expert, s = c.moe.d_shared;
    auto transposed = [](const torch::Tensor& t) { return t.t(); };  // [out, in] -> [in, out]
    if (!tn.has(Tn::ffn_gate_inp))
        throw ConfigError(fmt::format("{} checkpoints have no mixture-of-experts tensor names", c.model_type));
    const std::string router = tn(Tn::ffn_gate_inp, "weight", l);
    if (const TensorInfo* info = load.source().find(router); info && info->shape.size() == 2 && info->shape[0] != E)
        throw FormatError(load.source().path(),
                          fmt::format("tensor '{}' routes to {} experts, but config.json says {} ({}); the expert "
                                      "count of the file and the config disagree",
                                      router, info->shape[0], E, c.model_type == "mixtral" ? "num_local_experts" : "num_experts"));
    load.load(l, &LayerWeights::W_router, router, {E, d}, transposed);
    auto experts = [&](at::Tensor LayerWeights::*field, Tn t, std::vector<int64_t> stored) {
        std::vector<std::string> names;
        for (int e = 0; e < E; ++e) names.push_back(tn(t, "weight", l, e));
        load.load_stacked(l, field, names, stored, transposed);
    };
    experts(&LayerWeights::W_expert_gate, Tn::ffn_gate_exp, {f, d});
    experts(&LayerWeights::W_expert_in, Tn::ffn_up_exp, {f, d});
    experts(&LayerWeights::W_expert_out, Tn::ffn_down_exp, {d, f});
    if (s == 0) return;
    load.load(l, &LayerWeights::W_shared_gate, tn(Tn::ffn_gate_shexp, "weight", l), {s, d}, transposed);
    load.load(l, &LayerWeights::W_shared_in, tn(Tn::ffn_up_shexp, "weight", l), {s, d}, transposed);
    load.load(l, &LayerWeights::W_shared_out, tn(Tn::ffn_down_shexp, "weight", l), {d, s}, transposed);
    load.load(l, &LayerWeights::w_shared_router, tn(Tn::ffn_gate_inp_shexp, "weight", l), {1, d},
              [d](const torch::Tensor& t) { return t.view({d}); });
}

}  // namespace

ModelWeights load_hf_decoder_weights(const std::shared_ptr<const TensorSource>& source, const ModelConfig& c) {
    const TensorSource& src = *source;
    const int64_t d = c.d_model, H = c.n_heads, K = c.n_kv_heads, dh = c.d_head, m = c.d_mlp, V = c.d_vocab;
    const Names tn(src, c);
    // Layouts: every one is a view of the stored [out, in] matrix (no copy), except norm weights
    // with an offset (Gemma applies 1 + w): those become small float32 vectors holding 1 + w.
    const double offset = c.norm_weight_offset;
    auto norm_layout = [offset](const torch::Tensor& t) {
        if (offset == 0) return t;
        if (reading_shapes_only())  // describing the model reads no weight
            return torch::empty(t.sizes(), torch::TensorOptions().dtype(torch::kFloat32).device(torch::kMeta));
        return t.to(torch::kFloat32) + offset;
    };
    // [heads*d_head, d_model] (rows `first`.. of a fused matrix) -> [heads, d_model, d_head]
    auto heads_in = [dh, d](int64_t first, int64_t heads) {
        return [=](const torch::Tensor& t) { return t.narrow(0, first * dh, heads * dh).view({heads, dh, d}).permute({0, 2, 1}); };
    };
    // [d_model, H*d_head] -> [H, d_head, d_model]
    auto heads_out = [=](const torch::Tensor& t) { return t.t().view({H, dh, d}); };
    // rows first..first+n of [out, in], transposed -> [in, n]
    auto cols = [](int64_t first, int64_t n) {
        return [=](const torch::Tensor& t) { return t.narrow(0, first, n).t(); };
    };
    auto as_heads = [dh](int64_t heads) { return [=](const torch::Tensor& t) { return t.view({heads, dh}); }; };
    auto same = [](const torch::Tensor& t) { return t; };

    ModelWeights w;
    w.W_E = read_tensor(src, tn(Tn::token_embd, "weight"), {V, d});
    w.layers.resize(static_cast<size_t>(c.n_layers));
    LayerTensorLoader load(source, w);
    for (int l = 0; l < c.n_layers; ++l) {
        auto norm = [&](at::Tensor LayerWeights::*field, Tn t, int64_t n) {
            load.load(l, field, tn(t, "weight", l), {n}, norm_layout);
        };
        if (c.pre_norms()) norm(&LayerWeights::ln1_w, Tn::attn_norm, d);
        if (tn.has(Tn::attn_qkv)) {
            const std::string qkv = tn(Tn::attn_qkv, "weight", l);
            const std::vector<int64_t> shape{(H + 2 * K) * dh, d};
            load.load(l, &LayerWeights::W_Q, qkv, shape, heads_in(0, H));
            load.load(l, &LayerWeights::W_K, qkv, shape, heads_in(H, K));
            load.load(l, &LayerWeights::W_V, qkv, shape, heads_in(H + K, K));
        } else {
            load.load(l, &LayerWeights::W_Q, tn(Tn::attn_q, "weight", l), {H * dh, d}, heads_in(0, H));
            load.load(l, &LayerWeights::W_K, tn(Tn::attn_k, "weight", l), {K * dh, d}, heads_in(0, K));
            load.load(l, &LayerWeights::W_V, tn(Tn::attn_v, "weight", l), {K * dh, d}, heads_in(0, K));
            load.load(l, &LayerWeights::b_Q, tn(Tn::attn_q, "bias", l), {H * dh}, as_heads(H), true);
            load.load(l, &LayerWeights::b_K, tn(Tn::attn_k, "bias", l), {K * dh}, as_heads(K), true);
            load.load(l, &LayerWeights::b_V, tn(Tn::attn_v, "bias", l), {K * dh}, as_heads(K), true);
        }
        load.load(l, &LayerWeights::W_O, tn(Tn::attn_output, "weight", l), {d, H * dh}, heads_out);
        load.load(l, &LayerWeights::b_O, tn(Tn::attn_output, "bias", l), {d}, same, true);
        if (c.qk_norm != QkNorm::none) {
            const bool full = c.qk_norm == QkNorm::full_width;
            norm(&LayerWeights::q_norm_w, Tn::attn_q_norm, full ? H * dh : dh);
            norm(&LayerWeights::k_norm_w, Tn::attn_k_norm, full ? K * dh : dh);
        }
        if (c.post_norms()) norm(&LayerWeights::ln1_post_w, Tn::attn_post_norm, d);
        if (c.attn_only) continue;
        if (c.pre_norms()) norm(&LayerWeights::ln2_w, Tn::ffn_norm, d);
        if (c.post_norms()) norm(&LayerWeights::ln2_post_w, Tn::ffn_post_norm, d);
        if (c.is_moe_layer(l)) {
            load_moe_layer(load, tn, c, l);
            continue;
        }
        if (tn.has(Tn::ffn_gate_up)) {
            const std::string gu = tn(Tn::ffn_gate_up, "weight", l);
            load.load(l, &LayerWeights::W_gate, gu, {2 * m, d}, cols(0, m));
            load.load(l, &LayerWeights::W_in, gu, {2 * m, d}, cols(m, m));
        } else {
            load.load(l, &LayerWeights::W_gate, tn(Tn::ffn_gate, "weight", l), {m, d}, cols(0, m));
            load.load(l, &LayerWeights::W_in, tn(Tn::ffn_up, "weight", l), {m, d}, cols(0, m));
            load.load(l, &LayerWeights::b_gate, tn(Tn::ffn_gate, "bias", l), {m}, same, true);
            load.load(l, &LayerWeights::b_in, tn(Tn::ffn_up, "bias", l), {m}, same, true);
        }
        load.load(l, &LayerWeights::W_out, tn(Tn::ffn_down, "weight", l), {d, m}, cols(0, d));
        load.load(l, &LayerWeights::b_out, tn(Tn::ffn_down, "bias", l), {d}, same, true);
    }
    w.ln_final_w = norm_layout(read_tensor(src, tn(Tn::output_norm, "weight"), {d}));
    w.W_U = c.tied_embeddings ? w.W_E.t() : read_tensor(src, tn(Tn::output, "weight"), {V, d}).t();
    return w;
}

}  // namespace headscope
