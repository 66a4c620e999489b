#include <torch/torch.h>

#include <fmt/format.h>

#include "headscope/error.hpp"
#include "headscope/formatting.hpp"
#include "headscope/model_weights.hpp"

namespace headscope {

const std::vector<LayerTensor>& layer_tensors() {
    static const std::vector<LayerTensor> table{
        {"ln1.w", &LayerWeights::ln1_w},          {"ln1.b", &LayerWeights::ln1_b},
        {"attn.W_Q", &LayerWeights::W_Q},         {"attn.b_Q", &LayerWeights::b_Q},
        {"attn.W_K", &LayerWeights::W_K},         {"attn.b_K", &LayerWeights::b_K},
        {"attn.W_V", &LayerWeights::W_V},         {"attn.b_V", &LayerWeights::b_V},
        {"attn.q_norm.w", &LayerWeights::q_norm_w}, {"attn.k_norm.w", &LayerWeights::k_norm_w},
        {"attn.W_O", &LayerWeights::W_O},         {"attn.b_O", &LayerWeights::b_O},
        {"ln1_post.w", &LayerWeights::ln1_post_w},
        {"ln2.w", &LayerWeights::ln2_w},          {"ln2.b", &LayerWeights::ln2_b},
        {"mlp.W_gate", &LayerWeights::W_gate},    {"mlp.b_gate", &LayerWeights::b_gate},
        {"mlp.W_in", &LayerWeights::W_in},        {"mlp.b_in", &LayerWeights::b_in},
        {"mlp.W_out", &LayerWeights::W_out},      {"mlp.b_out", &LayerWeights::b_out},
        {"ln2_post.w", &LayerWeights::ln2_post_w},
        {"mlp.W_router", &LayerWeights::W_router},
        {"mlp.experts.W_gate", &LayerWeights::W_expert_gate},
        {"mlp.experts.W_in", &LayerWeights::W_expert_in},
        {"mlp.experts.W_out", &LayerWeights::W_expert_out},
        {"mlp.shared.W_gate", &LayerWeights::W_shared_gate},
        {"mlp.shared.W_in", &LayerWeights::W_shared_in},
        {"mlp.shared.W_out", &LayerWeights::W_shared_out},
        {"mlp.shared.W_router", &LayerWeights::w_shared_router},
    };
    return table;
}

namespace {

// Every tensor slot with its layer (-1: model level) and its name within the layer, in a fixed order.
template <class W, class T, class F>
void visit(W& w, F&& f) {
    f(-1, "W_E", static_cast<T&>(w.W_E));
    f(-1, "W_pos", static_cast<T&>(w.W_pos));
    for (size_t l = 0; l < w.layers.size(); ++l)
        for (const LayerTensor& t : layer_tensors()) f(static_cast<int>(l), t.name, static_cast<T&>(w.layers[l].*t.member));
    f(-1, "ln_final.w", static_cast<T&>(w.ln_final_w));
    f(-1, "ln_final.b", static_cast<T&>(w.ln_final_b));
    f(-1, "W_U", static_cast<T&>(w.W_U));
    f(-1, "b_U", static_cast<T&>(w.b_U));
}

std::string full_name(int layer, const char* local) {
    return layer < 0 ? std::string(local) : fmt::format("blocks.{}.{}", layer, local);
}

enum class Presence { required, optional, absent };
struct Expectation {
    Presence presence = Presence::absent;
    std::vector<int64_t> shape;
    const char* why_absent = "the model has no such weight";
};

// What the configuration says about one canonical tensor (`layer` -1 for model-level names).
Expectation expected(const ModelConfig& c, int layer, const std::string& name) {
    const int64_t d = c.d_model, H = c.n_heads, K = c.n_kv_heads, dh = c.d_head, m = c.d_mlp, V = c.d_vocab;
    const bool ln = c.norm == NormKind::layer, mlp = !c.attn_only;
    auto req = [](std::vector<int64_t> s) { return Expectation{Presence::required, std::move(s)}; };
    auto opt = [](std::vector<int64_t> s) { return Expectation{Presence::optional, std::move(s)}; };
    auto none = [](const char* why) { return Expectation{Presence::absent, {}, why}; };
    const std::string& n = name;
    if (n == "W_E") return req({V, d});
    if (n == "W_pos") return c.positions == PositionKind::learned ? req({c.n_ctx, d}) : none("the model has no learned positions");
    if (n == "ln_final.w") return c.final_norm ? req({d}) : none("the model has no final norm");
    if (n == "ln_final.b") return c.final_norm && ln ? opt({d}) : none("RMSNorm has no bias");
    if (n == "W_U") return req({d, V});
    if (n == "b_U") return opt({V});
    if (n == "ln1.w") return c.pre_norms() ? req({d}) : none("the model normalises after attention, not before");
    if (n == "ln1.b" || n == "ln2.b") return c.pre_norms() && ln && (mlp || n == "ln1.b") ? opt({d}) : none("RMSNorm has no bias");
    if (n == "attn.W_Q") return req({H, d, dh});
    if (n == "attn.W_K" || n == "attn.W_V") return req({K, d, dh});
    if (n == "attn.W_O") return req({H, dh, d});
    if (n == "attn.b_Q") return opt({H, dh});
    if (n == "attn.b_K" || n == "attn.b_V") return opt({K, dh});
    if (n == "attn.b_O") return opt({d});
    if (n == "attn.q_norm.w" || n == "attn.k_norm.w") {
        if (c.qk_norm == QkNorm::per_head) return req({dh});
        if (c.qk_norm == QkNorm::full_width) return req({(n == "attn.q_norm.w" ? H : K) * dh});
        return none("the model has no q/k norm");
    }
    if (n == "ln1_post.w") return c.post_norms() ? req({d}) : none("the model has no post-attention output norm");
    if (!mlp) return none("the model is attention-only");
    if (n == "ln2.w") return c.pre_norms() ? req({d}) : none("the model normalises after the MLP, not before");
    if (n == "ln2_post.w") return c.post_norms() ? req({d}) : none("the model has no post-MLP output norm");
    const bool moe = c.is_moe_layer(layer);
    if (n.rfind("mlp.experts.", 0) == 0 || n.rfind("mlp.shared.", 0) == 0 || n == "mlp.W_router") {
        if (!moe) return none("the layer's MLP is dense, not a mixture of experts");
        const int64_t E = c.moe.n_experts, f = c.moe.d_expert, s = c.moe.d_shared;
        if (n == "mlp.W_router") return req({d, E});
        if (n == "mlp.experts.W_gate" || n == "mlp.experts.W_in") return req({E, d, f});
        if (n == "mlp.experts.W_out") return req({E, f, d});
        if (s == 0) return none("the model has no shared expert");
        if (n == "mlp.shared.W_gate" || n == "mlp.shared.W_in") return req({d, s});
        if (n == "mlp.shared.W_out") return req({s, d});
        if (n == "mlp.shared.W_router") return req({d});
        return none("headscope does not know this weight");
    }
    if (moe && n.rfind("mlp.", 0) == 0) return none("the layer's MLP is a mixture of experts (its weights are mlp.experts.*)");
    if (n == "mlp.W_in") return req({d, m});
    if (n == "mlp.b_in" || n == "mlp.b_gate") return n == "mlp.b_gate" && !c.gated_mlp ? none("the MLP is not gated") : opt({m});
    if (n == "mlp.W_gate") return c.gated_mlp ? req({d, m}) : none("the MLP is not gated");
    if (n == "mlp.W_out") return req({m, d});
    if (n == "mlp.b_out") return opt({d});
    return none("headscope does not know this weight");
}

bool tied(const ModelWeights& w) {
    return w.W_U.defined() && w.W_E.defined() && w.W_U.is_alias_of(w.W_E);
}

}  // namespace

void for_each_weight(ModelWeights& w, const std::function<void(const std::string&, at::Tensor&)>& f) {
    visit<ModelWeights, at::Tensor>(w, [&](int layer, const char* local, at::Tensor& t) { f(full_name(layer, local), t); });
}
void for_each_weight(const ModelWeights& w, const std::function<void(const std::string&, const at::Tensor&)>& f) {
    visit<const ModelWeights, const at::Tensor>(
        w, [&](int layer, const char* local, const at::Tensor& t) { f(full_name(layer, local), t); });
}

// Deferred fields stand in as shape-only (meta) tensors, so one check covers both kinds.
static ModelWeights with_placeholders(const ModelWeights& w) {
    ModelWeights out = w;
    out.deferred.clear();
    for (const DeferredWeight& d : w.deferred) {
        if (d.layer < 0 || d.layer >= static_cast<int>(out.layers.size()) || !d.field)
            throw ConfigError(fmt::format("deferred weight of layer {} is outside the model", d.layer));
        out.layers[static_cast<size_t>(d.layer)].*d.field = at::empty(d.shape, at::TensorOptions().device(at::kMeta));
    }
    return out;
}

void validate_weights(const ModelConfig& c, const ModelWeights& weights) {
    const ModelWeights w = weights.deferred.empty() ? weights : with_placeholders(weights);
    if (static_cast<int>(w.layers.size()) != c.n_layers)
        throw ConfigError(fmt::format("weights hold {} layers, the configuration says {}", w.layers.size(), c.n_layers));
    // The layer is known structurally (never parsed back out of the name).
    visit<const ModelWeights, const at::Tensor>(w, [&](int layer, const char* local, const at::Tensor& t) {
        const std::string name = full_name(layer, local);
        const Expectation e = expected(c, layer, local);
        if (e.presence == Presence::absent) {
            if (t.defined()) throw ConfigError(fmt::format("weight {} is present but {}", name, e.why_absent));
            return;
        }
        if (!t.defined()) {
            if (e.presence == Presence::required)
                throw ConfigError(fmt::format("weight {} is missing (expected shape {})", name, shape_string(e.shape)));
            return;
        }
        if (t.sizes() != at::IntArrayRef(e.shape))
            throw ConfigError(fmt::format("weight {} has shape {}, expected {}", name, shape_string(t.sizes().vec()), shape_string(e.shape)));
    });
}

int64_t parameter_count(const ModelWeights& w) {
    int64_t n = 0;
    for_each_weight(w, [&](const std::string&, const at::Tensor& t) {
        if (t.defined()) n += t.numel();
    });
    if (tied(w)) n -= w.W_U.numel();
    for (const DeferredWeight& d : w.deferred) n += c10::multiply_integers(d.shape);
    return n;
}

int64_t stored_weight_bytes(const ModelWeights& w) {
    int64_t n = 0;
    for_each_weight(w, [&](const std::string&, const at::Tensor& t) {
        if (t.defined()) n += t.numel() * static_cast<int64_t>(t.element_size());
    });
    if (tied(w)) n -= w.W_U.numel() * static_cast<int64_t>(w.W_U.element_size());
    for (const DeferredWeight& d : w.deferred) n += d.stored_bytes;
    return n;
}

bool holds_quantized(const ModelWeights& w) {
    for (const DeferredWeight& d : w.deferred)
        if (d.quantized) return true;
    return false;
}

int64_t largest_layer_parameters(const ModelWeights& w) {
    std::vector<int64_t> per_layer(w.layers.size(), 0);
    for (size_t l = 0; l < w.layers.size(); ++l)
        for (const LayerTensor& t : layer_tensors())
            if ((w.layers[l].*t.member).defined()) per_layer[l] += (w.layers[l].*t.member).numel();
    for (const DeferredWeight& d : w.deferred)
        if (d.layer >= 0 && static_cast<size_t>(d.layer) < per_layer.size())
            per_layer[static_cast<size_t>(d.layer)] += c10::multiply_integers(d.shape);
    int64_t best = 0;
    for (int64_t n : per_layer) best = std::max(best, n);
    return best;
}

LayerWeights resolve_layer(const ModelWeights& w, int layer) {
    LayerWeights L = w.layers.at(static_cast<size_t>(layer));
    for (const DeferredWeight& d : w.deferred)
        if (d.layer == layer) L.*d.field = d.produce();
    return L;
}

ModelWeights convert_weights(const ModelWeights& w, const ModelConfig& c, at::ScalarType dtype, c10::Device device) {
    (void)c;
    ModelWeights out = w;
    out.deferred.clear();
    for (size_t l = 0; l < out.layers.size() && !w.deferred.empty(); ++l)
        out.layers[l] = resolve_layer(w, static_cast<int>(l));
    const bool was_tied = tied(w);
    if (was_tied) out.W_U = at::Tensor();
    // Dense layouts are kept (a transposed [out, in] stays transposed: pack_layer then uses it in
    // place, as it does a streamed layer's); anything else is made contiguous.
    for_each_weight(out, [&](const std::string&, at::Tensor& t) {
        if (!t.defined()) return;
        t = t.to(device, dtype);
        if (!t.is_non_overlapping_and_dense()) t = t.contiguous();
    });
    if (was_tied) out.W_U = out.W_E.t();
    return out;
}

}  // namespace headscope
