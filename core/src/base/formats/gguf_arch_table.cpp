// GGUF tensor names (llama.cpp's LLM_TENSOR_NAMES spelling) and their canonical headscope names,
// in one table; the tensors an architecture stores follow from its settings (norm placement,
// q/k norm, fused projections, experts), never from per-family string lists.
#include <fmt/format.h>

#include "headscope/formats/gguf_arch.hpp"

namespace headscope {

namespace {
enum class Kind {
    token_embd, output_norm, output, rope_freqs, rope_factors_long, rope_factors_short,
    attn_norm, attn_q, attn_k, attn_v, attn_qkv, attn_output, attn_q_norm, attn_k_norm, attn_post_norm,
    ffn_norm, ffn_post_norm, ffn_gate, ffn_up, ffn_down,
    ffn_gate_inp, ffn_gate_exps, ffn_up_exps, ffn_down_exps,
    ffn_gate_inp_shexp, ffn_gate_shexp, ffn_up_shexp, ffn_down_shexp,
    ffn_gate_exp, ffn_up_exp, ffn_down_exp,  // legacy per-expert tensors: blk.N.ffn_gate.E
};

struct Names {
    Kind kind;
    const char* gguf;       // llama.cpp's base name; blk.N. is prepended for layer tensors
    const char* canonical;  // blocks.N. is prepended for layer tensors
    bool per_layer;
};

// clang-format off
constexpr Names kNames[] = {
    {Kind::token_embd,         "token_embd",           "embed.W_E",               false},
    {Kind::output_norm,        "output_norm",          "ln_final.w",              false},
    {Kind::output,             "output",               "unembed.W_U",             false},
    {Kind::rope_freqs,         "rope_freqs",           "rotary.freq_factors",     false},
    {Kind::rope_factors_long,  "rope_factors_long",    "rotary.factors_long",     false},
    {Kind::rope_factors_short, "rope_factors_short",   "rotary.factors_short",    false},
    {Kind::attn_norm,          "attn_norm",            "ln1.w",                   true},
    {Kind::attn_q,             "attn_q",               "attn.W_Q",                true},
    {Kind::attn_k,             "attn_k",               "attn.W_K",                true},
    {Kind::attn_v,             "attn_v",               "attn.W_V",                true},
    {Kind::attn_qkv,           "attn_qkv",             "attn.W_QKV",              true},
    {Kind::attn_output,        "attn_output",          "attn.W_O",                true},
    {Kind::attn_q_norm,        "attn_q_norm",          "attn.q_norm.w",           true},
    {Kind::attn_k_norm,        "attn_k_norm",          "attn.k_norm.w",           true},
    {Kind::attn_post_norm,     "post_attention_norm",  "ln1_post.w",              true},
    {Kind::ffn_norm,           "ffn_norm",             "ln2.w",                   true},
    {Kind::ffn_post_norm,      "post_ffw_norm",        "ln2_post.w",              true},
    {Kind::ffn_gate,           "ffn_gate",             "mlp.W_gate",              true},
    {Kind::ffn_up,             "ffn_up",               "mlp.W_in",                true},
    {Kind::ffn_down,           "ffn_down",             "mlp.W_out",               true},
    {Kind::ffn_gate_inp,       "ffn_gate_inp",         "mlp.W_router",            true},
    {Kind::ffn_gate_exps,      "ffn_gate_exps",        "mlp.experts.W_gate",      true},
    {Kind::ffn_up_exps,        "ffn_up_exps",          "mlp.experts.W_in",        true},
    {Kind::ffn_down_exps,      "ffn_down_exps",        "mlp.experts.W_out",       true},
    {Kind::ffn_gate_inp_shexp, "ffn_gate_inp_shexp",   "mlp.shared.W_router",     true},
    {Kind::ffn_gate_shexp,     "ffn_gate_shexp",       "mlp.shared.W_gate",       true},
    {Kind::ffn_up_shexp,       "ffn_up_shexp",         "mlp.shared.W_in",         true},
    {Kind::ffn_down_shexp,     "ffn_down_shexp",       "mlp.shared.W_out",        true},
    {Kind::ffn_gate_exp,       "ffn_gate",             "mlp.experts.W_gate",      true},
    {Kind::ffn_up_exp,         "ffn_up",               "mlp.experts.W_in",        true},
    {Kind::ffn_down_exp,       "ffn_down",             "mlp.experts.W_out",       true},
};
// clang-format on

const Names& names(Kind k) {
    for (const auto& n : kNames)
        if (n.kind == k) return n;
    return kNames[0];  // unreachable: every Kind has a row
}

class PlanBuilder {
public:
    explicit PlanBuilder(std::vector<GgufTensorPlan>& out) : out_(out) {}

    // A tensor: "weight" or "bias"; canonical biases become b_* (W_Q -> b_Q) or .b (ln1.w -> ln1.b).
    void add(Kind k, std::vector<int64_t> shape, bool required = true, int layer = -1, const char* suffix = "weight",
             int expert = -1) {
        const Names& n = names(k);
        std::string gguf = n.gguf, canonical = n.canonical;
        if (expert >= 0) {
            gguf += fmt::format(".{}", expert);
            canonical = fmt::format("mlp.experts.{}.{}", expert, canonical.substr(canonical.rfind('.') + 1));
        }
        if (std::string(suffix) == "bias") canonical = bias_name(canonical);
        const std::string local = canonical;
        if (n.per_layer) {
            gguf = fmt::format("blk.{}.{}", layer, gguf);
            canonical = fmt::format("blocks.{}.{}", layer, canonical);
        }
        out_.push_back({fmt::format("{}.{}", gguf, suffix), std::move(canonical), std::move(shape), required,
                        n.per_layer ? layer : -1, local});
    }

private:
    static std::string bias_name(const std::string& weight) {
        const size_t dot = weight.rfind('.');
        std::string leaf = weight.substr(dot + 1);
        if (leaf.rfind("W_", 0) == 0) leaf = "b_" + leaf.substr(2);
        else leaf = "b";
        return weight.substr(0, dot + 1) + leaf;
    }
    std::vector<GgufTensorPlan>& out_;
};

void add_attention(PlanBuilder& b, const GgufArchSettings& s, int l) {
    const int64_t d = s.d_model, q = int64_t{s.n_heads} * s.d_head, kv = int64_t{s.n_kv_heads} * s.d_head;
    if (s.fused_qkv) {
        b.add(Kind::attn_qkv, {q + 2 * kv, d}, true, l);
    } else {
        b.add(Kind::attn_q, {q, d}, true, l);
        b.add(Kind::attn_k, {kv, d}, true, l);
        b.add(Kind::attn_v, {kv, d}, true, l);
    }
    if (s.qkv_bias) {
        b.add(Kind::attn_q, {q}, true, l, "bias");
        b.add(Kind::attn_k, {kv}, true, l, "bias");
        b.add(Kind::attn_v, {kv}, true, l, "bias");
    }
    b.add(Kind::attn_output, {d, q}, true, l);
    if (s.qk_norm == GgufQkNorm::per_head) {
        b.add(Kind::attn_q_norm, {s.d_head}, true, l);
        b.add(Kind::attn_k_norm, {s.d_head}, true, l);
    } else if (s.qk_norm == GgufQkNorm::full_width) {
        b.add(Kind::attn_q_norm, {q}, true, l);
        b.add(Kind::attn_k_norm, {kv}, true, l);
    }
}

void add_mlp(PlanBuilder& b, const GgufArchSettings& s, int l) {
    const int64_t d = s.d_model;
    if (!s.is_moe()) {
        if (s.fused_gate_up) {
            b.add(Kind::ffn_up, {2 * int64_t{s.d_mlp}, d}, true, l);
        } else {
            b.add(Kind::ffn_gate, {s.d_mlp, d}, true, l);
            b.add(Kind::ffn_up, {s.d_mlp, d}, true, l);
        }
        b.add(Kind::ffn_down, {d, s.d_mlp}, true, l);
        return;
    }
    const int64_t E = s.n_experts, f = s.d_expert;
    b.add(Kind::ffn_gate_inp, {E, d}, true, l);
    if (s.legacy_expert_tensors) {
        for (int e = 0; e < s.n_experts; ++e) {
            b.add(Kind::ffn_gate_exp, {f, d}, true, l, "weight", e);
            b.add(Kind::ffn_up_exp, {f, d}, true, l, "weight", e);
            b.add(Kind::ffn_down_exp, {d, f}, true, l, "weight", e);
        }
    } else {
        b.add(Kind::ffn_gate_exps, {E, f, d}, true, l);
        b.add(Kind::ffn_up_exps, {E, f, d}, true, l);
        b.add(Kind::ffn_down_exps, {E, d, f}, true, l);
    }
    if (s.d_shared_expert > 0) {
        const int64_t fs = s.d_shared_expert;
        b.add(Kind::ffn_gate_inp_shexp, {d}, true, l);
        b.add(Kind::ffn_gate_shexp, {fs, d}, true, l);
        b.add(Kind::ffn_up_shexp, {fs, d}, true, l);
        b.add(Kind::ffn_down_shexp, {d, fs}, true, l);
    }
}
}  // namespace

std::vector<GgufTensorPlan> gguf_tensor_plan(const GgufArchSettings& s) {
    std::vector<GgufTensorPlan> plan;
    PlanBuilder b(plan);
    const int64_t d = s.d_model;
    b.add(Kind::token_embd, {s.d_vocab, d});
    b.add(Kind::output_norm, {d});
    b.add(Kind::output, {s.d_vocab, d}, /*required=*/false);
    if (s.rope_freqs_tensor) b.add(Kind::rope_freqs, {s.rotary_dim / 2});
    if (s.rope_scaling.type == "longrope") {
        b.add(Kind::rope_factors_long, {s.rotary_dim / 2}, false);
        b.add(Kind::rope_factors_short, {s.rotary_dim / 2}, false);
    }
    for (int l = 0; l < s.n_layers; ++l) {
        const bool pre = s.norm_placement != GgufNormPlacement::post;
        const bool post = s.norm_placement != GgufNormPlacement::pre;
        if (pre) b.add(Kind::attn_norm, {d}, true, l);
        add_attention(b, s, l);
        if (post) b.add(Kind::attn_post_norm, {d}, true, l);
        if (pre) b.add(Kind::ffn_norm, {d}, true, l);
        add_mlp(b, s, l);
        if (post) b.add(Kind::ffn_post_norm, {d}, true, l);
    }
    return plan;
}

std::optional<std::string> gguf_canonical_name(const GgufArchSettings& s, std::string_view gguf_name) {
    for (const auto& t : gguf_tensor_plan(s))
        if (t.gguf == gguf_name) return t.canonical;
    return std::nullopt;
}

}  // namespace headscope
