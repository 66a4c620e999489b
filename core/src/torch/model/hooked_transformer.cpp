#include <torch/torch.h>

#include <cmath>

#include <fmt/format.h>

#include "headscope/error.hpp"
#include "headscope/hooked_transformer.hpp"
#include "model/layer_compute.hpp"
#include "model/rotary.hpp"

namespace headscope {

const char* to_string(WeightResidency r) {
    switch (r) {
        case WeightResidency::automatic: return "automatic";
        case WeightResidency::resident: return "resident";
        case WeightResidency::streamed: return "streamed";
    }
    return "?";
}

// Weights re-laid out for fast matmuls: every layer when resident (rebuilt by repack()), none
// when streamed (materialize_layer packs each layer as it runs).
struct HookedTransformer::Packed {
    std::vector<LayerCompute> layers;
    RotaryTables rotary;  // grown to the positions actually used
    double attn_scale = 1.0;
};

HookedTransformer::HookedTransformer(ModelConfig config, ModelWeights weights, ComputeOptions options)
    : config_(std::move(config)), options_(options) {
    config_.validate();
    hooks_ = std::make_shared<HookRegistry>(config_.n_layers, hook_points_of(config_));
    adopt_weights(std::move(weights));
}

HookedTransformer::~HookedTransformer() = default;

void HookedTransformer::set_weights(ModelWeights weights) { adopt_weights(std::move(weights)); }

void HookedTransformer::adopt_weights(ModelWeights weights) {
    validate_weights(config_, weights);
    upcast_matmuls_ = !fast_half_gemm(options_.dtype, options_.device, nullptr);
    residency_ = choose_residency(options_.residency, headscope::parameter_count(weights), !weights.deferred.empty(),
                                  options_.dtype);
    if (residency_ == WeightResidency::resident) {
        weights_ = convert_weights(weights, config_, options_.dtype, options_.device);
    } else {
        // Layers stay as loaded; the small whole-model tensors that every position reads are
        // converted once (W_E, W_pos and W_U stay stored: rows are gathered, columns chunked).
        weights_ = std::move(weights);
        auto cv = [&](at::Tensor& t) {
            if (t.defined()) t = t.to(options_.device).to(options_.dtype).contiguous();
        };
        cv(weights_.ln_final_w);
        cv(weights_.ln_final_b);
        cv(weights_.b_U);
    }
    repack();
}

WeightResidency HookedTransformer::choose_residency(WeightResidency requested, int64_t parameters, bool quantized,
                                                   at::ScalarType dtype) {
    if (requested != WeightResidency::automatic) return requested;
    const int64_t bytes = parameters * static_cast<int64_t>(c10::elementSize(dtype));
    return !quantized && bytes <= kResidentLimitBytes ? WeightResidency::resident : WeightResidency::streamed;
}

std::string HookedTransformer::weight_policy() const {
    const double mib = static_cast<double>(stored_weight_bytes(weights_)) / (1 << 20);
    if (residency_ == WeightResidency::resident)
        return fmt::format("resident: all weights kept in {} on {} ({:.1f} MiB)", c10::toString(options_.dtype),
                           options_.device.str(), mib);
    return fmt::format("streamed: weights stay as stored ({:.1f} MiB{}); each layer is converted to {} on {} "
                       "when it runs", mib, weights_.deferred.empty() ? "" : ", quantised layers dequantised per layer",
                       c10::toString(options_.dtype), options_.device.str());
}

std::string HookedTransformer::matmul_path() const {
    std::string why;
    fast_half_gemm(options_.dtype, options_.device, &why);
    return why;
}

LayerCompute HookedTransformer::materialize_layer(int l) const {
    if (residency_ == WeightResidency::resident && !training_) return packed_->layers[static_cast<size_t>(l)];
    const ComputeTypes types{options_.device, options_.dtype, upcast_matmuls_ ? at::kFloat : options_.dtype};
    return pack_layer(resolve_layer(weights_, l), config_, types);
}

LayerWeights HookedTransformer::layer_weights(int l) const {
    if (l < 0 || l >= config_.n_layers)
        throw UsageError(fmt::format("layer {} is out of range (the model has {} layers)", l, config_.n_layers));
    if (residency_ == WeightResidency::resident) return weights_.layers[static_cast<size_t>(l)];
    return convert_layer(resolve_layer(weights_, l), ComputeTypes{options_.device, options_.dtype, options_.dtype});
}

int64_t HookedTransformer::parameter_count() const { return headscope::parameter_count(weights_); }

std::vector<at::Tensor> HookedTransformer::enable_training() {
    if (residency_ != WeightResidency::resident) {  // gradients need owned compute-dtype weights
        options_.residency = WeightResidency::resident;
        adopt_weights(weights_);
    }
    std::vector<at::Tensor> params;
    auto leaf = [&](at::Tensor& t) {
        if (!t.defined()) return;
        t = t.detach().requires_grad_(true);
        params.push_back(t);
    };
    const bool tied = weights_.W_U.defined() && weights_.W_U.data_ptr() == weights_.W_E.data_ptr();
    leaf(weights_.W_E);
    leaf(weights_.W_pos);
    for (auto& L : weights_.layers) {
        for (at::Tensor* t : {&L.ln1_w, &L.ln1_b, &L.W_Q, &L.b_Q, &L.W_K, &L.b_K, &L.W_V, &L.b_V, &L.W_O, &L.b_O,
                              &L.ln2_w, &L.ln2_b, &L.W_gate, &L.b_gate, &L.W_in, &L.b_in, &L.W_out, &L.b_out})
            leaf(*t);
    }
    leaf(weights_.ln_final_w);
    leaf(weights_.ln_final_b);
    if (tied)
        weights_.W_U = weights_.W_E.t();
    else
        leaf(weights_.W_U);
    leaf(weights_.b_U);
    training_ = true;
    return params;
}

void HookedTransformer::disable_training() {
    torch::NoGradGuard no_grad;
    ModelWeights frozen = weights_;
    auto freeze = [](at::Tensor& t) {
        if (t.defined()) t = t.detach();
    };
    const bool tied = weights_.W_U.defined() && weights_.W_U.data_ptr() == weights_.W_E.data_ptr();
    freeze(frozen.W_E);
    freeze(frozen.W_pos);
    for (auto& L : frozen.layers)
        for (at::Tensor* t : {&L.ln1_w, &L.ln1_b, &L.W_Q, &L.b_Q, &L.W_K, &L.b_K, &L.W_V, &L.b_V, &L.W_O, &L.b_O,
                              &L.ln2_w, &L.ln2_b, &L.W_gate, &L.b_gate, &L.W_in, &L.b_in, &L.W_out, &L.b_out})
            freeze(*t);
    freeze(frozen.ln_final_w);
    freeze(frozen.ln_final_b);
    freeze(frozen.b_U);
    frozen.W_U = tied ? frozen.W_E.t() : frozen.W_U.detach();
    weights_ = std::move(frozen);
    training_ = false;
    repack();
}

void HookedTransformer::repack() {
    // Packed matrices are part of the autograd graph while training, constants otherwise.
    c10::optional<torch::NoGradGuard> no_grad;
    if (!training_) no_grad.emplace();
    auto p = std::make_unique<Packed>();
    if (residency_ == WeightResidency::resident && !training_) {
        const ComputeTypes types{options_.device, options_.dtype, upcast_matmuls_ ? at::kFloat : options_.dtype};
        for (const auto& L : weights_.layers) p->layers.push_back(pack_layer(L, config_, types));
    }
    p->attn_scale = 1.0 / std::sqrt(static_cast<double>(config_.d_head));
    packed_ = std::move(p);
}

const std::vector<HookPoint>& HookedTransformer::hook_points() const { return hooks_->points(); }

std::vector<std::string> HookedTransformer::resolve_hooks(const std::string& name_or_glob) const {
    return hooks_->resolve(name_or_glob);
}

HookHandle HookedTransformer::add_hook(const std::string& name_or_glob, HookFn fn) {
    return HookHandle(hooks_, hooks_->add(name_or_glob, std::move(fn)));
}

void HookedTransformer::remove_all_hooks() { hooks_->clear(); }

at::Tensor HookedTransformer::run_with_hooks(const at::Tensor& tokens, const std::vector<NamedHook>& hooks) {
    HookScope scope;
    for (const auto& h : hooks) scope.add(add_hook(h.name_or_glob, h.fn));
    return forward(tokens);
}

CachedRun HookedTransformer::run_with_cache(const at::Tensor& tokens, const std::vector<std::string>& filters) {
    return run_with_cache(tokens, filters, {});
}

CachedRun HookedTransformer::run_with_cache(const at::Tensor& tokens, const std::vector<std::string>& filters,
                                            const std::vector<NamedHook>& hooks) {
    CachedRun run;
    HookScope scope;
    // User hooks first, so the cache records what the forward pass actually used.
    for (const auto& h : hooks) scope.add(add_hook(h.name_or_glob, h.fn));
    ActivationCache* cache = &run.cache;
    HookFn record = [cache](const at::Tensor& t, const HookPoint& p) -> std::optional<at::Tensor> {
        cache->insert(p.name, t.detach());
        return std::nullopt;
    };
    if (filters.empty()) {
        for (const auto& p : hooks_->points())
            if (p.key.site != HookSite::attn_result) scope.add(add_hook(p.name, record));
    } else {
        for (const auto& f : filters) scope.add(add_hook(f, record));
    }
    run.logits = forward(tokens);
    return run;
}

at::Tensor HookedTransformer::norm(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b, HookSite scale_site,
                                   HookSite normalized_site, int layer) {
    torch::Tensor centred = config_.norm == NormKind::layer ? x - x.mean(-1, true) : x;
    torch::Tensor scale = (centred.pow(2).mean(-1, true) + config_.norm_eps).sqrt();
    scale = hooks_->apply(scale_site, layer, scale);
    torch::Tensor out = centred / scale * w;
    if (b.defined()) out = out + b;
    return hooks_->apply(normalized_site, layer, out);
}

// Scores, causal mask, hook_attn_scores, softmax, hook_pattern and z for all T x T pairs at once.
at::Tensor HookedTransformer::dense_attention(int l, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
    const int64_t B = q.size(0), T = q.size(1), H = config_.n_heads, K = config_.n_kv_heads, dh = config_.d_head,
                  g = config_.group_size();
    // Grouped-query attention without copying k/v: the g query heads of kv head j are stacked
    // along the query axis, [B, K, g*T, dh] x [B, K, dh, T].
    torch::Tensor qg = q.permute({0, 2, 1, 3}).reshape({B, K, g * T, dh});
    torch::Tensor scores = torch::matmul(qg, k.permute({0, 2, 3, 1})).view({B, H, T, T});
    scores.mul_(packed_->attn_scale);
    torch::Tensor causal = torch::ones({T, T}, torch::TensorOptions().dtype(torch::kBool).device(q.device())).triu(1);
    scores.masked_fill_(causal, -std::numeric_limits<double>::infinity());
    scores = hooks_->apply(HookSite::attn_scores, l, scores);
    torch::Tensor pattern = hooks_->apply(HookSite::attn_pattern, l, torch::softmax(scores, -1));
    return torch::matmul(pattern.reshape({B, K, g * T, T}), v.permute({0, 2, 1, 3})).view({B, H, T, dh}).transpose(1, 2);
}

// The same z when nobody reads scores or patterns: blocks of kChunk queries against only the
// keys they can see, so a long prompt does half the work and its score blocks stay in cache
// instead of materialising [B, H, T, T] (an intervention re-run at 2,048 tokens).
at::Tensor HookedTransformer::chunked_causal_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
    constexpr int64_t kChunk = 64;  // fastest of 32/64/128/256 at 2,048 tokens (bench/gui)
    const int64_t B = q.size(0), T = q.size(1), H = config_.n_heads, K = config_.n_kv_heads, dh = config_.d_head,
                  g = config_.group_size();
    const torch::Tensor qh = q.permute({0, 2, 1, 3});  // [B, H, T, dh]
    const torch::Tensor kt = k.permute({0, 2, 3, 1});  // [B, K, dh, T]
    const torch::Tensor vh = v.permute({0, 2, 1, 3});  // [B, K, T, dh]
    std::vector<torch::Tensor> parts;
    for (int64_t start = 0; start < T; start += kChunk) {
        const int64_t c = std::min(kChunk, T - start), end = start + c;
        torch::Tensor qg = qh.narrow(2, start, c).reshape({B, K, g * c, dh});
        torch::Tensor scores = torch::matmul(qg, kt.narrow(3, 0, end)).view({B, H, c, end});
        scores.mul_(packed_->attn_scale);
        torch::Tensor causal =
            torch::ones({c, end}, torch::TensorOptions().dtype(torch::kBool).device(q.device())).triu(start + 1);
        scores.masked_fill_(causal, -std::numeric_limits<double>::infinity());
        torch::Tensor pattern = torch::softmax(scores, -1);
        parts.push_back(torch::matmul(pattern.reshape({B, K, g * c, end}), vh.narrow(2, 0, end)).view({B, H, c, dh}));
    }
    return torch::cat(parts, 2).transpose(1, 2);
}

at::Tensor HookedTransformer::attention(int l, const LayerCompute& L, const at::Tensor& x, int64_t T) {
    const int64_t B = x.size(0), H = config_.n_heads, K = config_.n_kv_heads, dh = config_.d_head;
    torch::Tensor qkv = gemm(x.reshape({B * T, -1}), L.W_qkv, L.b_qkv).view({B, T, -1});
    torch::Tensor q = hooks_->apply(HookSite::attn_q, l, qkv.narrow(2, 0, H * dh).view({B, T, H, dh}));
    torch::Tensor k = hooks_->apply(HookSite::attn_k, l, qkv.narrow(2, H * dh, K * dh).view({B, T, K, dh}));
    torch::Tensor v = hooks_->apply(HookSite::attn_v, l, qkv.narrow(2, (H + K) * dh, K * dh).view({B, T, K, dh}));
    if (config_.positions == PositionKind::rotary) {
        ensure_rotary_tables(packed_->rotary, T, config_, options_.dtype, options_.device);
        q = hooks_->apply(HookSite::attn_rot_q, l, apply_rotary(q, packed_->rotary, config_));
        k = hooks_->apply(HookSite::attn_rot_k, l, apply_rotary(k, packed_->rotary, config_));
    }
    torch::Tensor z;
    if (!training_ && T >= kChunkedAttentionFrom && !hooks_->wanted(HookSite::attn_scores, l) &&
        !hooks_->wanted(HookSite::attn_pattern, l)) {
        z = chunked_causal_attention(q, k, v);
    } else {
        z = dense_attention(l, q, k, v);
    }
    z = hooks_->apply(HookSite::attn_z, l, z);
    torch::Tensor out;
    if (hooks_->wanted(HookSite::attn_result, l)) {
        // Per-head outputs, only when someone asked for them.
        torch::Tensor result = torch::einsum("bthd,hdm->bthm", {z, L.W_O.to(z.device()).to(z.scalar_type())});
        torch::Tensor replaced = hooks_->apply(HookSite::attn_result, l, result);
        if (!replaced.is_same(result)) {
            out = replaced.sum(2);
            if (L.b_O.defined()) out = out + L.b_O.to(out.scalar_type());
        }
    }
    if (!out.defined()) {
        torch::Tensor zf = z.reshape({B * T, H * dh});
        out = gemm(zf, L.W_o, L.b_O).view({B, T, -1});
    }
    return hooks_->apply(HookSite::attn_out, l, out);
}

namespace {
torch::Tensor activate(Activation a, const torch::Tensor& x) {
    switch (a) {
        case Activation::silu: return torch::silu(x);
        case Activation::gelu_new: return torch::gelu(x, "tanh");
        case Activation::gelu: return torch::gelu(x);
        case Activation::relu: return torch::relu(x);
    }
    return x;
}
}  // namespace

at::Tensor HookedTransformer::mlp(int l, const LayerCompute& L, const at::Tensor& x) {
    const int64_t B = x.size(0), T = x.size(1), m = config_.d_mlp;
    torch::Tensor xf = x.reshape({B * T, -1});
    torch::Tensor up = gemm(xf, L.W_up, L.b_up).view({B, T, -1});
    torch::Tensor post;
    if (config_.gated_mlp) {
        torch::Tensor pre = hooks_->apply(HookSite::mlp_pre, l, up.narrow(2, 0, m));
        torch::Tensor lin = hooks_->apply(HookSite::mlp_pre_linear, l, up.narrow(2, m, m));
        post = activate(config_.activation, pre) * lin;
    } else {
        post = activate(config_.activation, hooks_->apply(HookSite::mlp_pre, l, up));
    }
    post = hooks_->apply(HookSite::mlp_post, l, post);
    torch::Tensor pf = post.reshape({B * T, m});
    torch::Tensor out = gemm(pf, L.W_out, L.b_out);
    return hooks_->apply(HookSite::mlp_out, l, out.view({B, T, -1}));
}

at::Tensor HookedTransformer::forward(const at::Tensor& tokens_in) {
    if (!tokens_in.defined()) throw UsageError("forward: no tokens given");
    torch::Tensor tokens = tokens_in.dim() == 1 ? tokens_in.unsqueeze(0) : tokens_in;
    if (tokens.dim() != 2)
        throw UsageError(fmt::format("forward: tokens must be [batch, pos] or [pos], got {} dimensions", tokens.dim()));
    if (tokens.scalar_type() != torch::kLong) {
        if (!torch::isIntegralType(tokens.scalar_type(), false))
            throw UsageError("forward: token ids must be integers");
        tokens = tokens.to(torch::kLong);
    }
    const int64_t B = tokens.size(0), T = tokens.size(1);
    if (B == 0 || T == 0) throw UsageError("forward: empty batch (0 sequences or 0 positions); an empty prompt needs a BOS token");
    if (T > config_.n_ctx && config_.positions == PositionKind::learned)
        throw UsageError(fmt::format("forward: {} positions exceed the model's context of {}", T, config_.n_ctx));
    if (T > config_.n_ctx && config_.positions == PositionKind::rotary)
        throw UsageError(fmt::format("forward: {} positions exceed the model's context of {}", T, config_.n_ctx));
    const int64_t lo = tokens.min().item<int64_t>(), hi = tokens.max().item<int64_t>();
    if (lo < 0 || hi >= config_.d_vocab)
        throw UsageError(fmt::format("forward: token id {} is outside the vocabulary [0, {})", lo < 0 ? lo : hi,
                                     config_.d_vocab));
    tokens = tokens.to(options_.device);
    if (training_) repack();

    // Rows of the stored embedding, converted after the gather (the same values as converting first).
    const torch::Tensor ids = tokens.reshape({-1});
    torch::Tensor x = hooks_->apply(
        HookSite::embed, -1,
        weights_.W_E.index_select(0, ids.to(weights_.W_E.device())).to(options_.device).to(options_.dtype).view({B, T, -1}));
    if (config_.positions == PositionKind::learned) {
        torch::Tensor pos = weights_.W_pos.narrow(0, 0, T).to(options_.device).to(options_.dtype).unsqueeze(0).expand(
            {B, T, config_.d_model});
        x = x + hooks_->apply(HookSite::pos_embed, -1, pos);
    }
    return final_logits(run_blocks(0, x), {});
}

// Layers from..n_layers-1 on the residual stream x [B, T, d_model] (x is blocks.{from}.hook_resid_pre).
at::Tensor HookedTransformer::run_blocks(int from, at::Tensor x) {
    const int64_t T = x.size(1);
    for (int l = from; l < config_.n_layers; ++l) {
        const LayerCompute L = materialize_layer(l);
        torch::Tensor resid = hooks_->apply(HookSite::resid_pre, l, x);
        torch::Tensor attn_out =
            attention(l, L, norm(resid, L.ln1_w, L.ln1_b, HookSite::ln1_scale, HookSite::ln1_normalized, l), T);
        if (config_.attn_only) {
            x = hooks_->apply(HookSite::resid_post, l, resid + attn_out);
        } else if (config_.parallel_residual) {
            torch::Tensor mlp_out = mlp(l, L, norm(resid, L.ln2_w, L.ln2_b, HookSite::ln2_scale, HookSite::ln2_normalized, l));
            x = hooks_->apply(HookSite::resid_post, l, resid + attn_out + mlp_out);
        } else {
            torch::Tensor mid = hooks_->apply(HookSite::resid_mid, l, resid + attn_out);
            torch::Tensor mlp_out = mlp(l, L, norm(mid, L.ln2_w, L.ln2_b, HookSite::ln2_scale, HookSite::ln2_normalized, l));
            x = hooks_->apply(HookSite::resid_post, l, mid + mlp_out);
        }
    }
    return x;
}

// Final norm and unembedding of x [B, T, d_model] at `positions` (all when empty) -> [B, P, d_vocab].
at::Tensor HookedTransformer::final_logits(at::Tensor x, const std::vector<int64_t>& positions) {
    if (!positions.empty()) {
        const int64_t T = x.size(1);
        std::vector<int64_t> index;
        for (int64_t p : positions) {
            const int64_t q = p < 0 ? p + T : p;
            if (q < 0 || q >= T)
                throw UsageError(fmt::format("run_from_layer: logit position {} is outside the run's {} positions", p, T));
            index.push_back(q);
        }
        x = x.index_select(1, torch::tensor(index, torch::kLong).to(x.device()));
    }
    const int64_t B = x.size(0), P = x.size(1);
    if (config_.final_norm)
        x = norm(x, weights_.ln_final_w, weights_.ln_final_b, HookSite::ln_final_scale, HookSite::ln_final_normalized, -1);
    return unembed(x.reshape({B * P, -1})).view({B, P, -1});
}

at::Tensor HookedTransformer::run_from_layer(int layer, const at::Tensor& resid_pre, const std::vector<int64_t>& logit_positions) {
    if (layer < 0 || layer > config_.n_layers)
        throw UsageError(fmt::format("run_from_layer: layer {} is outside 0..{}", layer, config_.n_layers));
    if (!resid_pre.defined() || resid_pre.dim() != 3 || resid_pre.size(2) != config_.d_model || resid_pre.size(0) == 0 ||
        resid_pre.size(1) == 0 || resid_pre.size(1) > config_.n_ctx)
        throw UsageError(fmt::format("run_from_layer: the residual stream must be [batch, pos, {}] with 1..{} positions",
                                     config_.d_model, config_.n_ctx));
    if (training_) repack();
    torch::Tensor x = resid_pre.to(options_.device, options_.dtype);
    return final_logits(run_blocks(layer, x), logit_positions);
}

at::Tensor HookedTransformer::unembed(const at::Tensor& xf) const {
    const torch::Tensor& W_U = weights_.W_U;
    if (W_U.scalar_type() == options_.dtype && W_U.device() == options_.device)
        return weights_.b_U.defined() ? torch::addmm(weights_.b_U, xf, W_U) : torch::mm(xf, W_U);
    // Stored in another dtype/device: converted a block of the vocabulary at a time.
    constexpr int64_t kBlock = 16384;
    const int64_t V = W_U.size(1);
    torch::Tensor logits = torch::empty({xf.size(0), V}, xf.options());
    for (int64_t v0 = 0; v0 < V; v0 += kBlock) {
        const int64_t n = std::min(kBlock, V - v0);
        const torch::Tensor W = W_U.narrow(1, v0, n).to(options_.device).to(upcast_matmuls_ ? at::kFloat : options_.dtype);
        const torch::Tensor b = weights_.b_U.defined() ? weights_.b_U.narrow(0, v0, n).to(W.scalar_type()) : torch::Tensor();
        logits.narrow(1, v0, n).copy_(gemm(xf, W, b));
    }
    return logits;
}

}  // namespace headscope
