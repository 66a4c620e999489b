// GGUF files of the families gguf_arch_settings reads (gemma, gemma2, gemma3, qwen2, qwen3, phi3,
// olmo2, qwen2moe, qwen3moe, olmoe): every tensor of the architecture's plan (llama.cpp's names,
// row-major [out, in] matrices, stacked [E, ...] experts) into the canonical layout, as views of
// the mapped file where the stored type allows, quantised ones deferred to their layer's run.
#include <functional>
#include <map>
#include <string>

#include <fmt/format.h>

#include "headscope/error.hpp"
#include "headscope/formats/gguf_arch.hpp"
#include "loaders/gguf_decoder.hpp"
#include "loaders/tensor_reader.hpp"

namespace headscope {

namespace {
using Layout = LayerTensorLoader::Layout;
struct Target {
    at::Tensor LayerWeights::*field;
    Layout layout;
};
}  // namespace

ModelWeights load_gguf_arch_weights(const std::shared_ptr<const TensorSource>& source, const ModelConfig& c,
                                    const GgufArchSettings& s) {
    const int64_t d = c.d_model, H = c.n_heads, K = c.n_kv_heads, dh = c.d_head, m = c.d_mlp;
    auto heads_in = [dh, d](int64_t first, int64_t heads) {  // rows first.. of [heads*d_head, d] -> [heads, d, d_head]
        return [=](const torch::Tensor& t) { return t.narrow(0, first * dh, heads * dh).view({heads, dh, d}).permute({0, 2, 1}); };
    };
    auto rows_t = [](int64_t first, int64_t n) {  // rows first..first+n of [out, in], transposed -> [in, n]
        return [=](const torch::Tensor& t) { return t.narrow(0, first, n).t(); };
    };
    const Layout same = [](const torch::Tensor& t) { return t; };
    const Layout transposed = [](const torch::Tensor& t) { return t.t(); };
    const Layout experts = [](const torch::Tensor& t) { return t.transpose(1, 2); };  // [E, out, in] -> [E, in, out]
    const std::map<std::string, std::vector<Target>> targets{
        {"ln1.w", {{&LayerWeights::ln1_w, same}}},
        {"ln2.w", {{&LayerWeights::ln2_w, same}}},
        {"ln1_post.w", {{&LayerWeights::ln1_post_w, same}}},
        {"ln2_post.w", {{&LayerWeights::ln2_post_w, same}}},
        {"attn.q_norm.w", {{&LayerWeights::q_norm_w, same}}},
        {"attn.k_norm.w", {{&LayerWeights::k_norm_w, same}}},
        {"attn.W_Q", {{&LayerWeights::W_Q, heads_in(0, H)}}},
        {"attn.W_K", {{&LayerWeights::W_K, heads_in(0, K)}}},
        {"attn.W_V", {{&LayerWeights::W_V, heads_in(0, K)}}},
        {"attn.W_QKV", {{&LayerWeights::W_Q, heads_in(0, H)}, {&LayerWeights::W_K, heads_in(H, K)},
                        {&LayerWeights::W_V, heads_in(H + K, K)}}},
        {"attn.b_Q", {{&LayerWeights::b_Q, [=](const torch::Tensor& t) { return t.view({H, dh}); }}}},
        {"attn.b_K", {{&LayerWeights::b_K, [=](const torch::Tensor& t) { return t.view({K, dh}); }}}},
        {"attn.b_V", {{&LayerWeights::b_V, [=](const torch::Tensor& t) { return t.view({K, dh}); }}}},
        {"attn.W_O", {{&LayerWeights::W_O, [=](const torch::Tensor& t) { return t.t().view({H, dh, d}); }}}},
        // phi3 fuses gate and up into ffn_up ([gate; up] rows)
        {"mlp.W_in", {s.fused_gate_up ? Target{&LayerWeights::W_gate, rows_t(0, m)} : Target{&LayerWeights::W_in, transposed}}},
        {"mlp.W_gate", {{&LayerWeights::W_gate, transposed}}},
        {"mlp.W_out", {{&LayerWeights::W_out, transposed}}},
        {"mlp.W_router", {{&LayerWeights::W_router, transposed}}},
        {"mlp.experts.W_gate", {{&LayerWeights::W_expert_gate, experts}}},
        {"mlp.experts.W_in", {{&LayerWeights::W_expert_in, experts}}},
        {"mlp.experts.W_out", {{&LayerWeights::W_expert_out, experts}}},
        {"mlp.shared.W_router", {{&LayerWeights::w_shared_router, same}}},
        {"mlp.shared.W_gate", {{&LayerWeights::W_shared_gate, transposed}}},
        {"mlp.shared.W_in", {{&LayerWeights::W_shared_in, transposed}}},
        {"mlp.shared.W_out", {{&LayerWeights::W_shared_out, transposed}}},
    };

    ModelWeights w;
    w.layers.resize(static_cast<size_t>(c.n_layers));
    LayerTensorLoader load(source, w);
    for (const GgufTensorPlan& t : gguf_tensor_plan(s)) {
        if (t.layer < 0) {
            if (t.local == "embed.W_E") w.W_E = read_tensor(*source, t.gguf, t.shape);
            else if (t.local == "ln_final.w") w.ln_final_w = read_tensor(*source, t.gguf, t.shape);
            else if (t.local == "unembed.W_U" && !c.tied_embeddings) w.W_U = read_tensor(*source, t.gguf, t.shape).t();
            continue;
        }
        const auto it = targets.find(t.local);
        if (it == targets.end())
            throw FormatError(source->path(), fmt::format("tensor '{}' ({}) has no canonical place in headscope", t.gguf,
                                                          t.canonical));
        std::vector<Target> parts = it->second;
        if (t.local == "mlp.W_in" && s.fused_gate_up) parts.push_back({&LayerWeights::W_in, rows_t(m, m)});
        for (const Target& p : parts) load.load(t.layer, p.field, t.gguf, t.shape, p.layout, !t.required);
    }
    if (c.tied_embeddings) w.W_U = w.W_E.t();
    return w;
}

}  // namespace headscope
