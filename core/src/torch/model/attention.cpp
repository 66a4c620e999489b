// HookedTransformer's attention: projections, q/k norms, rotary, and the two kernels (dense, and
// blocks of queries against only the keys they can see) sharing one score transform.
#include <torch/torch.h>

#include <limits>
#include <stdexcept>

#include "headscope/hooked_transformer.hpp"
#include "model/hooked_transformer_packed.hpp"
#include "model/layer_compute.hpp"
#include "model/rotary.hpp"

namespace headscope {

at::Tensor HookedTransformer::transform_scores(int l, at::Tensor scores, int64_t q0, int64_t k0,
                                               const at::Tensor& query_pos) const {
    scores = scores * packed_->attn_scale;
    if (config_.attn_softcap > 0) scores = torch::tanh(scores / config_.attn_softcap) * config_.attn_softcap;
    const int64_t nq = scores.size(-2), nk = scores.size(-1), w = config_.window(l);
    auto opts = torch::TensorOptions().dtype(torch::kLong).device(scores.device());
    torch::Tensor qi = (query_pos.defined() ? query_pos.to(opts) : torch::arange(q0, q0 + nq, opts)).unsqueeze(1), kj = torch::arange(k0, k0 + nk, opts).unsqueeze(0);
    torch::Tensor hidden = kj > qi;  // causal
    if (w > 0) hidden = hidden.logical_or(qi - kj >= w);  // a query sees itself and the w - 1 keys before it
    return scores.masked_fill(hidden, -std::numeric_limits<double>::infinity());
}

// Scores, hook_attn_scores, softmax, hook_pattern and z for all T x T pairs at once.
at::Tensor HookedTransformer::dense_attention(int l, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                              const at::Tensor& query_pos) {
    const int64_t B = q.size(0), Tq = q.size(1), T = k.size(1), H = config_.n_heads, K = config_.n_kv_heads,
                  dh = config_.d_head, g = config_.group_size();
    // Grouped-query attention without copying k/v: the g query heads of kv head j are stacked
    // along the query axis, [B, K, g*Tq, dh] x [B, K, dh, T].
    torch::Tensor qg = q.permute({0, 2, 1, 3}).reshape({B, K, g * Tq, dh});
    torch::Tensor scores = torch::matmul(qg, k.permute({0, 2, 3, 1})).view({B, H, Tq, T});
    scores = hooks_->apply(HookSite::attn_scores, l, transform_scores(l, scores, 0, 0, query_pos));
    torch::Tensor pattern = hooks_->apply(HookSite::attn_pattern, l, torch::softmax(scores, -1));
    return torch::matmul(pattern.reshape({B, K, g * Tq, T}), v.permute({0, 2, 1, 3})).view({B, H, Tq, dh}).transpose(1, 2);
}

// The same z when nobody reads scores or patterns: blocks of kChunk queries against only the
// keys they can see (causal, and within the layer's window), so a long prompt does a fraction
// of the work and never materialises [B, H, T, T].
at::Tensor HookedTransformer::chunked_attention(int l, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
    constexpr int64_t kChunk = 64;  // fastest of 32/64/128/256 at 2,048 tokens (bench/gui)
    const int64_t B = q.size(0), T = q.size(1), H = config_.n_heads, K = config_.n_kv_heads, dh = config_.d_head,
                  g = config_.group_size(), w = config_.window(l);
    const torch::Tensor qh = q.permute({0, 2, 1, 3});  // [B, H, T, dh]
    const torch::Tensor kt = k.permute({0, 2, 3, 1});  // [B, K, dh, T]
    const torch::Tensor vh = v.permute({0, 2, 1, 3});  // [B, K, T, dh]
    std::vector<torch::Tensor> parts;
    for (int64_t start = 0; start < T; start += kChunk) {
        const int64_t c = std::min(kChunk, T - start), end = start + c;
        const int64_t k0 = w > 0 ? std::max<int64_t>(0, start - w + 1) : 0;
        torch::Tensor qg = qh.narrow(2, start, c).reshape({B, K, g * c, dh});
        torch::Tensor scores = torch::matmul(qg, kt.narrow(3, k0, end - k0)).view({B, H, c, end - k0});
        torch::Tensor pattern = torch::softmax(transform_scores(l, scores, start, k0), -1);
        parts.push_back(
            torch::matmul(pattern.reshape({B, K, g * c, end - k0}), vh.narrow(2, k0, end - k0)).view({B, H, c, dh}));
    }
    return torch::cat(parts, 2).transpose(1, 2);
}

// RMSNorm of q or k before rotary: per head over d_head (one shared weight), or over all heads'
// dims together (OLMo-2).
at::Tensor HookedTransformer::qk_norm(int l, const at::Tensor& x, const at::Tensor& w, HookSite site) {
    torch::Tensor y;
    if (config_.qk_norm == QkNorm::per_head) {
        y = x * torch::rsqrt(x.pow(2).mean(-1, true) + config_.norm_eps) * w;
    } else {
        torch::Tensor flat = x.flatten(2);
        y = (flat * torch::rsqrt(flat.pow(2).mean(-1, true) + config_.norm_eps) * w).view(x.sizes());
    }
    return hooks_->apply(site, l, y);
}

// Tables for T positions, built (or grown) before the layers run: lazily, for the positions used.
void HookedTransformer::prepare_rotary(int64_t T) {
    Packed& p = *packed_;
    if (rotary_depends_on_length(config_)) {
        if (p.rotary_prompt_T != T) {
            p.rotary_prompt = make_rotary_tables(config_, false, T, options_.dtype, options_.device);
            p.rotary_prompt_T = T;
        }
    } else {
        ensure_rotary_tables(p.rotary, T, config_, false, options_.dtype, options_.device);
    }
    if (config_.rope_local_theta > 0) ensure_rotary_tables(p.rotary_local, T, config_, true, options_.dtype, options_.device);
}

at::Tensor HookedTransformer::rotate(int l, const at::Tensor& x, int64_t T, const at::Tensor& index) {
    const RotaryTables* tables = &packed_->rotary;
    if (uses_local_rotary(config_, l)) {
        tables = &packed_->rotary_local;
    } else if (rotary_depends_on_length(config_)) {
        if (packed_->rotary_prompt_T != T)
            throw std::logic_error("rotary tables were prepared for another prompt length");
        tables = &packed_->rotary_prompt;
    }
    if (!index.defined()) return apply_rotary(x, *tables, config_);
    const torch::Tensor i = index.to(tables->cos.device());
    return apply_rotary(x, RotaryTables{tables->cos.index_select(0, i), tables->sin.index_select(0, i)}, config_);
}

at::Tensor HookedTransformer::attention(int l, const LayerCompute& L, const at::Tensor& x, int64_t T,
                                        const at::Tensor& query_index) {
    const int64_t B = x.size(0), H = config_.n_heads, K = config_.n_kv_heads, dh = config_.d_head;
    const torch::Tensor xf = x.reshape({B * T, -1});
    // Queries at every position, or (the last layer of a scored run) only at query_index.
    const torch::Tensor xq = query_index.defined() ? x.index_select(1, query_index) : x;
    const int64_t Tq = xq.size(1);
    torch::Tensor q = hooks_->apply(HookSite::attn_q, l, gemm(xq.reshape({B * Tq, -1}), L.W_q, L.b_q).view({B, Tq, H, dh}));
    torch::Tensor k = hooks_->apply(HookSite::attn_k, l, gemm(xf, L.W_k, L.b_k).view({B, T, K, dh}));
    torch::Tensor v = hooks_->apply(HookSite::attn_v, l, gemm(xf, L.W_v, L.b_v).view({B, T, K, dh}));
    if (config_.qk_norm != QkNorm::none) {
        q = qk_norm(l, q, L.q_norm_w, HookSite::attn_q_normed);
        k = qk_norm(l, k, L.k_norm_w, HookSite::attn_k_normed);
    }
    if (config_.positions == PositionKind::rotary) {
        q = hooks_->apply(HookSite::attn_rot_q, l, rotate(l, q, T, query_index));
        k = hooks_->apply(HookSite::attn_rot_k, l, rotate(l, k, T));
    }
    torch::Tensor z;
    if (query_index.defined()) {
        z = dense_attention(l, q, k, v, query_index);
    } else if (!training_ && T >= kChunkedAttentionFrom && !hooks_->wanted(HookSite::attn_scores, l) &&
               !hooks_->wanted(HookSite::attn_pattern, l)) {
        z = chunked_attention(l, q, k, v);
    } else {
        z = dense_attention(l, q, k, v);
    }
    return attention_output(l, L, hooks_->apply(HookSite::attn_z, l, z));
}

at::Tensor HookedTransformer::attention_output(int l, const LayerCompute& L, const at::Tensor& z) {
    const int64_t B = z.size(0), T = z.size(1), H = config_.n_heads, dh = config_.d_head;
    torch::Tensor out;
    if (hooks_->wanted(HookSite::attn_result, l)) {
        // Per-head outputs, only when someone asked for them (before any output norm).
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
    if (config_.post_norms()) out = post_norm(out, L.ln1_post_w, HookSite::ln1_post_scale, l);
    return hooks_->apply(HookSite::attn_out, l, out);
}

}  // namespace headscope
