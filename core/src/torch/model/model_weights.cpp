#include <torch/torch.h>

#include <fmt/format.h>

#include "headscope/error.hpp"
#include "headscope/formatting.hpp"
#include "headscope/model_weights.hpp"

namespace headscope {

namespace {

void expect(const at::Tensor& t, const std::string& name, std::vector<int64_t> shape, bool required) {
    if (!t.defined()) {
        if (required) throw ConfigError(fmt::format("weight {} is missing (expected shape {})", name, shape_string(shape)));
        return;
    }
    if (t.sizes() != at::IntArrayRef(shape))
        throw ConfigError(fmt::format("weight {} has shape {}, expected {}", name, shape_string(t.sizes().vec()), shape_string(shape)));
}

void expect_absent(const at::Tensor& t, const std::string& name, const char* why) {
    if (t.defined()) throw ConfigError(fmt::format("weight {} is present but {}", name, why));
}

}  // namespace

namespace {
// Deferred fields stand in as shape-only (meta) tensors, so one check covers both kinds.
ModelWeights with_placeholders(const ModelWeights& w) {
    ModelWeights out = w;
    out.deferred.clear();
    for (const DeferredWeight& d : w.deferred) {
        if (d.layer < 0 || d.layer >= static_cast<int>(out.layers.size()) || !d.field)
            throw ConfigError(fmt::format("deferred weight of layer {} is outside the model", d.layer));
        out.layers[static_cast<size_t>(d.layer)].*d.field = at::empty(d.shape, at::TensorOptions().device(at::kMeta));
    }
    return out;
}
}  // namespace

void validate_weights(const ModelConfig& c, const ModelWeights& weights) {
    const ModelWeights w = weights.deferred.empty() ? weights : with_placeholders(weights);
    const int64_t d = c.d_model, H = c.n_heads, K = c.n_kv_heads, dh = c.d_head, m = c.d_mlp, V = c.d_vocab;
    const bool layer_norm = c.norm == NormKind::layer;
    expect(w.W_E, "W_E", {V, d}, true);
    if (c.positions == PositionKind::learned)
        expect(w.W_pos, "W_pos", {c.n_ctx, d}, true);
    else
        expect_absent(w.W_pos, "W_pos", "the model has no learned positions");
    if (static_cast<int>(w.layers.size()) != c.n_layers)
        throw ConfigError(fmt::format("weights hold {} layers, the configuration says {}", w.layers.size(), c.n_layers));
    for (int l = 0; l < c.n_layers; ++l) {
        const LayerWeights& L = w.layers[static_cast<size_t>(l)];
        auto n = [l](const char* what) { return fmt::format("blocks.{}.{}", l, what); };
        expect(L.ln1_w, n("ln1.w"), {d}, true);
        expect(L.ln1_b, n("ln1.b"), {d}, false);
        if (!layer_norm) expect_absent(L.ln1_b, n("ln1.b"), "RMSNorm has no bias");
        expect(L.W_Q, n("attn.W_Q"), {H, d, dh}, true);
        expect(L.W_K, n("attn.W_K"), {K, d, dh}, true);
        expect(L.W_V, n("attn.W_V"), {K, d, dh}, true);
        expect(L.W_O, n("attn.W_O"), {H, dh, d}, true);
        expect(L.b_Q, n("attn.b_Q"), {H, dh}, false);
        expect(L.b_K, n("attn.b_K"), {K, dh}, false);
        expect(L.b_V, n("attn.b_V"), {K, dh}, false);
        expect(L.b_O, n("attn.b_O"), {d}, false);
        if (c.attn_only) {
            expect_absent(L.W_in, n("mlp.W_in"), "the model is attention-only");
            continue;
        }
        expect(L.ln2_w, n("ln2.w"), {d}, true);
        expect(L.ln2_b, n("ln2.b"), {d}, false);
        expect(L.W_in, n("mlp.W_in"), {d, m}, true);
        expect(L.b_in, n("mlp.b_in"), {m}, false);
        expect(L.W_out, n("mlp.W_out"), {m, d}, true);
        expect(L.b_out, n("mlp.b_out"), {d}, false);
        if (c.gated_mlp) {
            expect(L.W_gate, n("mlp.W_gate"), {d, m}, true);
            expect(L.b_gate, n("mlp.b_gate"), {m}, false);
        } else {
            expect_absent(L.W_gate, n("mlp.W_gate"), "the MLP is not gated");
        }
    }
    if (c.final_norm) {
        expect(w.ln_final_w, "ln_final.w", {d}, true);
        expect(w.ln_final_b, "ln_final.b", {d}, false);
    }
    expect(w.W_U, "W_U", {d, V}, true);
    expect(w.b_U, "b_U", {V}, false);
}

namespace {
template <class F>
void for_each_tensor(const ModelWeights& w, F&& f) {
    f(w.W_E);
    f(w.W_pos);
    for (const auto& L : w.layers) {
        for (const at::Tensor* t : {&L.ln1_w, &L.ln1_b, &L.W_Q, &L.b_Q, &L.W_K, &L.b_K, &L.W_V, &L.b_V, &L.W_O, &L.b_O,
                                    &L.ln2_w, &L.ln2_b, &L.W_gate, &L.b_gate, &L.W_in, &L.b_in, &L.W_out, &L.b_out})
            f(*t);
    }
    f(w.ln_final_w);
    f(w.ln_final_b);
    f(w.W_U);
    f(w.b_U);
}

bool tied(const ModelWeights& w) {
    return w.W_U.defined() && w.W_E.defined() && w.W_U.is_alias_of(w.W_E);
}
}  // namespace

int64_t parameter_count(const ModelWeights& w) {
    int64_t n = 0;
    for_each_tensor(w, [&](const at::Tensor& t) {
        if (t.defined()) n += t.numel();
    });
    if (tied(w)) n -= w.W_U.numel();
    for (const DeferredWeight& d : w.deferred) n += c10::multiply_integers(d.shape);
    return n;
}

int64_t stored_weight_bytes(const ModelWeights& w) {
    int64_t n = 0;
    for_each_tensor(w, [&](const at::Tensor& t) {
        if (t.defined()) n += t.numel() * static_cast<int64_t>(t.element_size());
    });
    if (tied(w)) n -= w.W_U.numel() * static_cast<int64_t>(w.W_U.element_size());
    for (const DeferredWeight& d : w.deferred) n += d.stored_bytes;
    return n;
}

int64_t largest_layer_parameters(const ModelWeights& w) {
    std::vector<int64_t> per_layer(w.layers.size(), 0);
    for (size_t l = 0; l < w.layers.size(); ++l) {
        ModelWeights one;
        one.layers.push_back(w.layers[l]);
        for_each_tensor(one, [&](const at::Tensor& t) {
            if (t.defined()) per_layer[l] += t.numel();
        });
    }
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
    auto cv = [&](const at::Tensor& t) {
        return t.defined() ? t.to(device, dtype).contiguous() : at::Tensor();
    };
    ModelWeights out;
    const bool was_tied = tied(w);
    out.W_E = cv(w.W_E);
    out.W_pos = cv(w.W_pos);
    out.layers.reserve(w.layers.size());
    for (size_t l = 0; l < w.layers.size(); ++l) {
        const LayerWeights L = w.deferred.empty() ? w.layers[l] : resolve_layer(w, static_cast<int>(l));
        LayerWeights o;
        o.ln1_w = cv(L.ln1_w); o.ln1_b = cv(L.ln1_b);
        o.W_Q = cv(L.W_Q); o.b_Q = cv(L.b_Q);
        o.W_K = cv(L.W_K); o.b_K = cv(L.b_K);
        o.W_V = cv(L.W_V); o.b_V = cv(L.b_V);
        o.W_O = cv(L.W_O); o.b_O = cv(L.b_O);
        o.ln2_w = cv(L.ln2_w); o.ln2_b = cv(L.ln2_b);
        o.W_gate = cv(L.W_gate); o.b_gate = cv(L.b_gate);
        o.W_in = cv(L.W_in); o.b_in = cv(L.b_in);
        o.W_out = cv(L.W_out); o.b_out = cv(L.b_out);
        out.layers.push_back(std::move(o));
    }
    out.ln_final_w = cv(w.ln_final_w);
    out.ln_final_b = cv(w.ln_final_b);
    out.W_U = was_tied ? out.W_E.t() : cv(w.W_U);
    out.b_U = cv(w.b_U);
    (void)c;
    return out;
}

}  // namespace headscope
