#include <torch/torch.h>

#include <cmath>

#include <fmt/format.h>

#include "headscope/error.hpp"
#include "headscope/hooked_transformer.hpp"
#include "headscope/threads.hpp"
#include "model/hooked_transformer_packed.hpp"
#include "model/layer_compute.hpp"
#include "model/moe_block.hpp"
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
    residency_ = choose_residency(options_.residency, headscope::parameter_count(weights), holds_quantized(weights),
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
                       "when it runs", mib, holds_quantized(weights_) ? ", quantised layers dequantised per layer" : "",
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
    const bool tied = weights_.W_U.defined() && weights_.W_U.data_ptr() == weights_.W_E.data_ptr();
    for_each_weight(weights_, [&](const std::string& name, at::Tensor& t) {
        if (!t.defined() || (tied && name == "W_U")) return;
        // Leaves in the canonical layout, contiguous (an optimizer or an edit by flat index sees
        // [heads, d_model, d_head] as written, not the stored matrix it is a view of).
        t = t.detach().contiguous().requires_grad_(true);
        params.push_back(t);
    });
    if (tied) weights_.W_U = weights_.W_E.t();
    training_ = true;
    return params;
}

void HookedTransformer::disable_training() {
    torch::NoGradGuard no_grad;
    ModelWeights frozen = weights_;
    const bool tied = weights_.W_U.defined() && weights_.W_U.data_ptr() == weights_.W_E.data_ptr();
    for_each_weight(frozen, [](const std::string&, at::Tensor& t) {
        if (t.defined()) t = t.detach();
    });
    if (tied) frozen.W_U = frozen.W_E.t();
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
    p->attn_scale = config_.query_scale();
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

uint64_t HookedTransformer::hook_mark() const { return hooks_->mark(); }

void HookedTransformer::remove_hooks_added_since(uint64_t mark) { hooks_->remove_added_since(mark); }

at::Tensor HookedTransformer::run_with_hooks(const at::Tensor& tokens, const std::vector<NamedHook>& hooks,
                                             const std::vector<int64_t>& logit_positions) {
    HookScope scope;
    for (const auto& h : hooks) scope.add(add_hook(h.name_or_glob, h.fn));
    return forward(tokens, logit_positions);
}

CachedRun HookedTransformer::run_with_cache(const at::Tensor& tokens, const std::vector<std::string>& filters) {
    return run_with_cache(tokens, filters, {});
}

CachedRun HookedTransformer::run_with_cache(const at::Tensor& tokens, const std::vector<std::string>& filters,
                                            const std::vector<NamedHook>& hooks, const std::vector<int64_t>& logit_positions) {
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
            if (p.key.site != HookSite::attn_result && p.key.site != HookSite::mlp_expert_out)
                scope.add(add_hook(p.name, record));
    } else {
        for (const auto& f : filters) scope.add(add_hook(f, record));
    }
    run.logits = forward(tokens, logit_positions);
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

// Output norm of post / pre+post placement (RMSNorm or LayerNorm without bias), hooked at its scale.
at::Tensor HookedTransformer::post_norm(const at::Tensor& x, const at::Tensor& w, HookSite scale_site, int layer) {
    torch::Tensor centred = config_.norm == NormKind::layer ? x - x.mean(-1, true) : x;
    torch::Tensor scale = hooks_->apply(scale_site, layer, (centred.pow(2).mean(-1, true) + config_.norm_eps).sqrt());
    return centred / scale * w;
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

torch::Tensor soft_cap(const torch::Tensor& x, double cap) { return torch::tanh(x / cap) * cap; }

// The residual stream a resumed run starts from: [batch, pos, d_model] with 1..n_ctx positions.
void check_resid_pre(const char* who, const at::Tensor& resid, const ModelConfig& c) {
    if (!resid.defined() || resid.dim() != 3 || resid.size(2) != c.d_model || resid.size(0) == 0 || resid.size(1) == 0 ||
        resid.size(1) > c.n_ctx)
        throw UsageError(fmt::format("{}: the residual stream must be [batch, pos, {}] with 1..{} positions", who,
                                     c.d_model, c.n_ctx));
}

// Whether the last layer runs only at the scored positions `index` of T: a few of them, and nobody
// hooks the layer (a hook must see every position).
bool last_layer_scored_only(const std::vector<int64_t>& index, int64_t T, bool last_layer_unhooked) {
    constexpr size_t kScoredOnlyMax = 64;
    return last_layer_unhooked && !index.empty() && index.size() <= kScoredOnlyMax && static_cast<int64_t>(index.size()) < T;
}
}  // namespace

at::Tensor HookedTransformer::mlp(int l, const LayerCompute& L, const at::Tensor& x) {
    torch::Tensor out;
    if (L.W_router.defined()) {
        out = sparse_mlp(*hooks_, config_, l, L, x);  // mixture of experts, with its own hook points
    } else {
        const int64_t B = x.size(0), T = x.size(1), m = config_.d_mlp;
        torch::Tensor xf = x.reshape({B * T, -1});
        torch::Tensor up = gemm(xf, L.W_up, L.b_up).view({B, T, -1});
        torch::Tensor post;
        if (config_.gated_mlp) {
            torch::Tensor pre = hooks_->apply(HookSite::mlp_pre, l, gemm(xf, L.W_gate, L.b_gate).view({B, T, -1}));
            torch::Tensor lin = hooks_->apply(HookSite::mlp_pre_linear, l, up);
            post = activate(config_.activation, pre) * lin;
        } else {
            post = activate(config_.activation, hooks_->apply(HookSite::mlp_pre, l, up));
        }
        post = hooks_->apply(HookSite::mlp_post, l, post);
        torch::Tensor pf = post.reshape({B * T, m});
        out = gemm(pf, L.W_out, L.b_out).view({B, T, -1});
    }
    if (config_.post_norms()) out = post_norm(out, L.ln2_post_w, HookSite::ln2_post_scale, l);
    return hooks_->apply(HookSite::mlp_out, l, out);
}

at::Tensor HookedTransformer::forward(const at::Tensor& tokens_in) { return forward(tokens_in, {}); }

at::Tensor HookedTransformer::forward(const at::Tensor& tokens_in, const std::vector<int64_t>& logit_positions) {
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
    if (T > config_.n_ctx)
        throw UsageError(fmt::format("forward: {} positions exceed the model's context of {}", T, config_.n_ctx));
    const int64_t lo = tokens.min().item<int64_t>(), hi = tokens.max().item<int64_t>();
    if (lo < 0 || hi >= config_.d_vocab)
        throw UsageError(fmt::format("forward: token id {} is outside the vocabulary [0, {})", lo < 0 ? lo : hi,
                                     config_.d_vocab));
    tokens = tokens.to(options_.device);
    if (training_) repack();

    // Rows of the stored embedding, converted after the gather (the same values as converting first).
    const torch::Tensor ids = tokens.reshape({-1});
    torch::Tensor x =
        weights_.W_E.index_select(0, ids.to(weights_.W_E.device())).to(options_.device).to(options_.dtype).view({B, T, -1});
    if (config_.embed_scale != 1.0) x = x * config_.embed_scale;  // Gemma: sqrt(d_model)
    x = hooks_->apply(HookSite::embed, -1, x);
    if (config_.positions == PositionKind::learned) {
        torch::Tensor pos = weights_.W_pos.narrow(0, 0, T).to(options_.device).to(options_.dtype).unsqueeze(0).expand(
            {B, T, config_.d_model});
        x = x + hooks_->apply(HookSite::pos_embed, -1, pos);
    }
    return run_to_logits(0, x, logit_positions);
}

// One block on the residual stream x [B, T, d_model] (x is blocks.{l}.hook_resid_pre), with layer
// l's weights materialized once. Norm placement: pre x + f(norm(x)); post x + norm(f(x));
// pre+post both (the output norms live inside attention() and mlp(), before hook_attn_out /
// hook_mlp_out, so those hooks hold exactly what is added to the residual stream). With
// query_index (an unhooked layer) attention runs its queries, and the rest of the block runs,
// only at those positions.
at::Tensor HookedTransformer::block(int l, const at::Tensor& x, const at::Tensor& query_index) {
    poll_threads();  // adapt the thread count to the machine's load between layers
    const LayerCompute L = materialize_layer(l);
    const int64_t T = x.size(1);
    torch::Tensor resid = hooks_->apply(HookSite::resid_pre, l, x);
    torch::Tensor attn_in =
        config_.pre_norms() ? norm(resid, L.ln1_w, L.ln1_b, HookSite::ln1_scale, HookSite::ln1_normalized, l) : resid;
    torch::Tensor attn_out = attention(l, L, attn_in, T, query_index);
    if (query_index.defined()) resid = resid.index_select(1, query_index);
    return block_after_attention(l, L, resid, attn_out);
}

at::Tensor HookedTransformer::block_after_attention(int l, const LayerCompute& L, const at::Tensor& resid,
                                                    const at::Tensor& attn_out) {
    if (config_.attn_only) return hooks_->apply(HookSite::resid_post, l, resid + attn_out);
    auto mlp_in = [&](const torch::Tensor& h) {
        return config_.pre_norms() ? norm(h, L.ln2_w, L.ln2_b, HookSite::ln2_scale, HookSite::ln2_normalized, l) : h;
    };
    if (config_.parallel_residual)
        return hooks_->apply(HookSite::resid_post, l, resid + attn_out + mlp(l, L, mlp_in(resid)));
    torch::Tensor mid = hooks_->apply(HookSite::resid_mid, l, resid + attn_out);
    return hooks_->apply(HookSite::resid_post, l, mid + mlp(l, L, mlp_in(mid)));
}

bool HookedTransformer::layer_unhooked(int l) const {
    for (int s = static_cast<int>(HookSite::resid_pre); s <= static_cast<int>(HookSite::mlp_expert_out); ++s)
        if (hooks_->wanted(static_cast<HookSite>(s), l)) return false;
    return true;
}

std::vector<int64_t> HookedTransformer::resolve_positions(const std::vector<int64_t>& positions, int64_t T) const {
    std::vector<int64_t> index;
    for (int64_t p : positions) {
        const int64_t q = p < 0 ? p + T : p;
        if (q < 0 || q >= T) throw UsageError(fmt::format("logit position {} is outside the run's {} positions", p, T));
        index.push_back(q);
    }
    return index;
}

// Layers from.. on x [B, T, d_model] (blocks.{from}.hook_resid_pre), then the logits at `positions`.
// A few scored positions and an unhooked last layer: that layer's queries, attention output and
// MLP run only there (its keys and values at every position) — the same numbers, 1/T of its work.
at::Tensor HookedTransformer::run_to_logits(int from, at::Tensor x, const std::vector<int64_t>& positions) {
    const int last = config_.n_layers - 1;
    const int64_t T = x.size(1);
    if (config_.positions == PositionKind::rotary && from <= last) prepare_rotary(T);
    const std::vector<int64_t> index = resolve_positions(positions, T);
    if (from <= last && last_layer_scored_only(index, T, layer_unhooked(last))) {
        for (int l = from; l < last; ++l) x = block(l, x);
        x = block(last, x, torch::tensor(index, torch::kLong).to(x.device()));
        return final_logits(x, {});
    }
    for (int l = from; l <= last; ++l) x = block(l, x);
    return final_logits(x, positions);
}

// Final norm, unembedding and final soft cap of x [B, T, d_model] at `positions` (all when empty) -> [B, P, d_vocab].
at::Tensor HookedTransformer::final_logits(at::Tensor x, const std::vector<int64_t>& positions) {
    if (!positions.empty()) {
        const std::vector<int64_t> index = resolve_positions(positions, x.size(1));
        x = x.index_select(1, torch::tensor(index, torch::kLong).to(x.device()));
    }
    const int64_t B = x.size(0), P = x.size(1);
    if (config_.final_norm)
        x = norm(x, weights_.ln_final_w, weights_.ln_final_b, HookSite::ln_final_scale, HookSite::ln_final_normalized, -1);
    torch::Tensor logits = unembed(x.reshape({B * P, -1}));
    if (config_.final_softcap > 0) logits = soft_cap(logits, config_.final_softcap);  // Gemma-2
    return logits.view({B, P, -1});
}

at::Tensor HookedTransformer::run_from_layer(int layer, const at::Tensor& resid_pre, const std::vector<int64_t>& logit_positions) {
    if (layer < 0 || layer > config_.n_layers)
        throw UsageError(fmt::format("run_from_layer: layer {} is outside 0..{}", layer, config_.n_layers));
    check_resid_pre("run_from_layer", resid_pre, config_);
    if (training_) repack();
    return run_to_logits(layer, resid_pre.to(options_.device, options_.dtype), logit_positions);
}

at::Tensor HookedTransformer::run_from_z(int layer, const at::Tensor& resid_pre, const at::Tensor& z,
                                         const std::vector<int64_t>& logit_positions) {
    if (layer < 0 || layer >= config_.n_layers)
        throw UsageError(fmt::format("run_from_z: layer {} is outside 0..{}", layer, config_.n_layers - 1));
    check_resid_pre("run_from_z", resid_pre, config_);
    const int64_t B = resid_pre.size(0), T = resid_pre.size(1);
    if (!z.defined() || z.dim() != 4 || z.size(0) != B || z.size(1) != T || z.size(2) != config_.n_heads ||
        z.size(3) != config_.d_head)
        throw UsageError(fmt::format("run_from_z: z must be [{}, {}, {}, {}] like the residual stream's batch and positions",
                                     B, T, config_.n_heads, config_.d_head));
    if (training_) repack();
    torch::Tensor x = resid_pre.to(options_.device, options_.dtype);
    torch::Tensor zc = z.to(options_.device, options_.dtype);
    const LayerCompute L = materialize_layer(layer);
    const std::vector<int64_t> index = resolve_positions(logit_positions, T);
    if (layer == config_.n_layers - 1 && last_layer_scored_only(index, T, layer_unhooked(layer))) {
        // Only the scored positions of the last layer matter.
        const torch::Tensor i = torch::tensor(index, torch::kLong).to(x.device());
        x = block_after_attention(layer, L, x.index_select(1, i), attention_output(layer, L, zc.index_select(1, i)));
        return final_logits(x, {});
    }
    x = block_after_attention(layer, L, x, attention_output(layer, L, zc));
    return run_to_logits(layer + 1, x, logit_positions);
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
