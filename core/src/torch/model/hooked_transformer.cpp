#include <torch/torch.h>

#include <cmath>

#include <fmt/format.h>

#include "headscope/error.hpp"
#include "headscope/hooked_transformer.hpp"
#include "model/hooked_transformer_packed.hpp"
#include "model/rotary.hpp"

namespace headscope {

HookedTransformer::HookedTransformer(ModelConfig config, ModelWeights weights, ComputeOptions options)
    : config_(std::move(config)), options_(options) {
    config_.validate();
    validate_weights(config_, weights);
    weights_ = convert_weights(weights, config_, options_.dtype, options_.device);
    hooks_ = std::make_shared<HookRegistry>(config_.n_layers, hook_points_of(config_));
    repack();
}

HookedTransformer::~HookedTransformer() = default;

void HookedTransformer::set_weights(ModelWeights weights) {
    validate_weights(config_, weights);
    weights_ = convert_weights(weights, config_, options_.dtype, options_.device);
    repack();
}

int64_t HookedTransformer::parameter_count() const { return headscope::parameter_count(weights_); }

std::vector<at::Tensor> HookedTransformer::enable_training() {
    std::vector<at::Tensor> params;
    const bool tied = weights_.W_U.defined() && weights_.W_U.data_ptr() == weights_.W_E.data_ptr();
    for_each_weight(weights_, [&](const std::string& name, at::Tensor& t) {
        if (!t.defined() || (tied && name == "W_U")) return;
        t = t.detach().requires_grad_(true);
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
    const int64_t d = config_.d_model, dh = config_.d_head;
    auto flat_in = [&](const torch::Tensor& W) {  // [heads, d_model, d_head] -> [d_model, heads*d_head]
        return W.permute({1, 0, 2}).reshape({d, -1});
    };
    auto flat_bias = [&](const torch::Tensor& b, int64_t heads) {
        return b.defined() ? b.reshape({-1}) : torch::zeros({heads * dh}, weights_.W_E.options());
    };
    for (const auto& L : weights_.layers) {
        Packed::Layer pl;
        pl.W_qkv = torch::cat({flat_in(L.W_Q), flat_in(L.W_K), flat_in(L.W_V)}, 1).contiguous();
        if (L.b_Q.defined() || L.b_K.defined() || L.b_V.defined())
            pl.b_qkv = torch::cat({flat_bias(L.b_Q, config_.n_heads), flat_bias(L.b_K, config_.n_kv_heads),
                                   flat_bias(L.b_V, config_.n_kv_heads)});
        pl.W_o = L.W_O.reshape({-1, d}).contiguous();
        if (!config_.attn_only) {
            if (config_.gated_mlp) {
                pl.W_up = torch::cat({L.W_gate, L.W_in}, 1).contiguous();
                if (L.b_gate.defined() || L.b_in.defined()) {
                    auto z = torch::zeros({config_.d_mlp}, L.W_in.options());
                    pl.b_up = torch::cat({L.b_gate.defined() ? L.b_gate : z, L.b_in.defined() ? L.b_in : z});
                }
            } else {
                pl.W_up = L.W_in;
                pl.b_up = L.b_in;
            }
        }
        p->layers.push_back(std::move(pl));
    }
    if (config_.positions == PositionKind::rotary) {
        p->rotary = make_rotary_tables(config_, false, config_.n_ctx, options_.dtype, options_.device);
        if (config_.rope_local_theta > 0)
            p->rotary_local = make_rotary_tables(config_, true, config_.n_ctx, options_.dtype, options_.device);
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
}  // namespace

at::Tensor HookedTransformer::mlp(int l, const at::Tensor& x) {
    const auto& L = weights_.layers[static_cast<size_t>(l)];
    const auto& P = packed_->layers[static_cast<size_t>(l)];
    const int64_t B = x.size(0), T = x.size(1), m = config_.d_mlp;
    torch::Tensor xf = x.reshape({B * T, -1});
    torch::Tensor up = (P.b_up.defined() ? torch::addmm(P.b_up, xf, P.W_up) : torch::mm(xf, P.W_up)).view({B, T, -1});
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
    torch::Tensor out = (L.b_out.defined() ? torch::addmm(L.b_out, pf, L.W_out) : torch::mm(pf, L.W_out)).view({B, T, -1});
    if (config_.post_norms()) out = post_norm(out, L.ln2_post_w, HookSite::ln2_post_scale, l);
    return hooks_->apply(HookSite::mlp_out, l, out);
}

// One block. Norm placement: pre x + f(norm(x)); post x + norm(f(x)); pre+post both (the output
// norms live inside attention() and mlp(), before hook_attn_out / hook_mlp_out, so those hooks
// hold exactly what is added to the residual stream).
at::Tensor HookedTransformer::block(int l, const at::Tensor& x) {
    const auto& L = weights_.layers[static_cast<size_t>(l)];
    const int64_t T = x.size(1);
    const bool pre = config_.pre_norms();
    torch::Tensor resid = hooks_->apply(HookSite::resid_pre, l, x);
    torch::Tensor attn_in = pre ? norm(resid, L.ln1_w, L.ln1_b, HookSite::ln1_scale, HookSite::ln1_normalized, l) : resid;
    torch::Tensor attn_out = attention(l, attn_in, T);
    if (config_.attn_only) return hooks_->apply(HookSite::resid_post, l, resid + attn_out);
    auto mlp_in = [&](const torch::Tensor& h) {
        return pre ? norm(h, L.ln2_w, L.ln2_b, HookSite::ln2_scale, HookSite::ln2_normalized, l) : h;
    };
    if (config_.parallel_residual)
        return hooks_->apply(HookSite::resid_post, l, resid + attn_out + mlp(l, mlp_in(resid)));
    torch::Tensor mid = hooks_->apply(HookSite::resid_mid, l, resid + attn_out);
    return hooks_->apply(HookSite::resid_post, l, mid + mlp(l, mlp_in(mid)));
}

at::Tensor HookedTransformer::run_layers(int from, int to, at::Tensor x) {
    if (from < 0 || to > config_.n_layers || from > to)
        throw UsageError(fmt::format("run_layers: layer range [{}, {}) is outside [0, {}]", from, to, config_.n_layers));
    for (int l = from; l < to; ++l) x = block(l, x);
    return x;
}

at::Tensor HookedTransformer::unembed(const at::Tensor& x_in) {
    torch::Tensor x = x_in;
    const int64_t B = x.size(0), T = x.size(1);
    if (config_.final_norm)
        x = norm(x, weights_.ln_final_w, weights_.ln_final_b, HookSite::ln_final_scale, HookSite::ln_final_normalized, -1);
    torch::Tensor xf = x.reshape({B * T, -1});
    torch::Tensor logits = weights_.b_U.defined() ? torch::addmm(weights_.b_U, xf, weights_.W_U) : torch::mm(xf, weights_.W_U);
    if (config_.final_softcap > 0) logits = soft_cap(logits, config_.final_softcap);
    return logits.view({B, T, -1});
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
    if (T > config_.n_ctx)
        throw UsageError(fmt::format("forward: {} positions exceed the model's context of {}", T, config_.n_ctx));
    const int64_t lo = tokens.min().item<int64_t>(), hi = tokens.max().item<int64_t>();
    if (lo < 0 || hi >= config_.d_vocab)
        throw UsageError(fmt::format("forward: token id {} is outside the vocabulary [0, {})", lo < 0 ? lo : hi,
                                     config_.d_vocab));
    tokens = tokens.to(options_.device);
    if (training_) repack();
    if (config_.positions == PositionKind::rotary && rotary_depends_on_length(config_) && packed_->rotary_prompt_T != T) {
        packed_->rotary_prompt = make_rotary_tables(config_, false, T, options_.dtype, options_.device);
        packed_->rotary_prompt_T = T;
    }

    torch::Tensor x = weights_.W_E.index_select(0, tokens.reshape({-1})).view({B, T, -1});
    if (config_.embed_scale != 1.0) x = x * config_.embed_scale;
    x = hooks_->apply(HookSite::embed, -1, x);
    if (config_.positions == PositionKind::learned) {
        torch::Tensor pos = weights_.W_pos.narrow(0, 0, T).unsqueeze(0).expand({B, T, config_.d_model});
        x = x + hooks_->apply(HookSite::pos_embed, -1, pos);
    }
    return unembed(run_layers(0, config_.n_layers, x));
}

}  // namespace headscope
