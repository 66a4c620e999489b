#include "model/moe_mlp.hpp"

#include <torch/torch.h>

#include <stdexcept>
#include <string>

namespace headscope {

namespace {
std::string shape_of(const at::Tensor& t) {
    std::string s = "[";
    for (int64_t i = 0; i < t.dim(); ++i) s += (i ? ", " : "") + std::to_string(t.size(i));
    return s + "]";
}

void require(bool ok, const std::string& what) {
    if (!ok) throw std::invalid_argument("moe_mlp: " + what);
}

void check_shapes(const at::Tensor& x, const MoeMlpWeights& w, const MoeMlpOptions& o) {
    require(x.dim() == 3, "x has shape " + shape_of(x) + ", expected [batch, pos, d_model]");
    const int64_t d = x.size(2);
    require(w.W_router.defined() && w.W_router.dim() == 2 && w.W_router.size(0) == d,
            "W_router has shape " + (w.W_router.defined() ? shape_of(w.W_router) : "none") +
                ", expected [d_model=" + std::to_string(d) + ", n_experts]");
    const int64_t E = w.W_router.size(1);
    require(w.W_gate.defined() && w.W_gate.dim() == 3 && w.W_gate.size(0) == E && w.W_gate.size(1) == d,
            "W_gate has shape " + (w.W_gate.defined() ? shape_of(w.W_gate) : "none") + ", expected [" +
                std::to_string(E) + ", " + std::to_string(d) + ", d_expert]");
    require(w.W_in.defined() && w.W_in.sizes() == w.W_gate.sizes(),
            "W_in has shape " + (w.W_in.defined() ? shape_of(w.W_in) : "none") + ", expected W_gate's " +
                shape_of(w.W_gate));
    const int64_t f = w.W_gate.size(2);
    require(w.W_out.defined() && w.W_out.dim() == 3 && w.W_out.size(0) == E && w.W_out.size(1) == f &&
                w.W_out.size(2) == d,
            "W_out has shape " + (w.W_out.defined() ? shape_of(w.W_out) : "none") + ", expected [" +
                std::to_string(E) + ", " + std::to_string(f) + ", " + std::to_string(d) + "]");
    require(o.top_k >= 1 && o.top_k <= E,
            "top_k is " + std::to_string(o.top_k) + ", expected 1.." + std::to_string(E) + " (the expert count)");
    if (w.W_shared_gate.defined()) {
        require(w.W_shared_gate.dim() == 2 && w.W_shared_gate.size(0) == d && w.W_shared_in.defined() &&
                    w.W_shared_in.sizes() == w.W_shared_gate.sizes() && w.W_shared_out.defined() &&
                    w.W_shared_out.dim() == 2 && w.W_shared_out.size(0) == w.W_shared_gate.size(1) &&
                    w.W_shared_out.size(1) == d,
                "shared expert weights are inconsistent (gate " + shape_of(w.W_shared_gate) + ")");
        require(w.W_shared_router.defined() && w.W_shared_router.numel() == d,
                "W_shared_router must hold d_model = " + std::to_string(d) + " values");
    }
}

at::Tensor swiglu(const at::Tensor& x, const at::Tensor& W_gate, const at::Tensor& W_in, const at::Tensor& W_out) {
    return torch::matmul(torch::silu(torch::matmul(x, W_gate)) * torch::matmul(x, W_in), W_out);
}
}  // namespace

MoeMlpOutput moe_mlp_forward(const at::Tensor& x, const MoeMlpWeights& w, const MoeMlpOptions& options,
                             const MoeMlpHooks& hooks, bool want_expert_out) {
    check_shapes(x, w, options);
    const int64_t B = x.size(0), T = x.size(1), d = x.size(2), E = w.W_router.size(1), k = options.top_k;
    const int64_t N = B * T;
    MoeMlpOutput r;

    r.router_logits = torch::matmul(x, w.W_router);  // [B, T, E]
    if (hooks.router_logits) r.router_logits = hooks.router_logits(r.router_logits);
    const at::Tensor probs = torch::softmax(r.router_logits.reshape({N, E}).to(torch::kFloat32), -1);
    auto [top_p, top_i] = probs.topk(k, -1, /*largest=*/true, /*sorted=*/true);  // [N, k]
    if (hooks.expert_indices) {
        const at::Tensor chosen = hooks.expert_indices(top_i.reshape({B, T, k}));
        require(chosen.numel() == N * k && !chosen.is_floating_point(),
                "a hook_expert_indices replacement must hold integer expert indices of shape [B, T, k]");
        top_i = chosen.to(torch::kLong).reshape({N, k}).to(probs.device());
        const int64_t lo = top_i.min().item<int64_t>(), hi = top_i.max().item<int64_t>();
        require(lo >= 0 && hi < E, "a hook_expert_indices replacement names expert " + std::to_string(lo < 0 ? lo : hi) +
                                       ", outside 0.." + std::to_string(E - 1));
        top_p = probs.gather(1, top_i);
    }
    if (options.normalize_topk) top_p = top_p / top_p.sum(-1, /*keepdim=*/true);
    r.expert_weights = top_p.to(x.scalar_type()).reshape({B, T, k});
    if (hooks.expert_weights) r.expert_weights = hooks.expert_weights(r.expert_weights);
    r.expert_indices = top_i.reshape({B, T, k});

    const at::Tensor xf = x.reshape({N, d});
    const at::Tensor weights = r.expert_weights.reshape({N, k});
    const bool keep_expert_out = want_expert_out || static_cast<bool>(hooks.expert_out);
    at::Tensor out = torch::zeros({N, d}, x.options());
    at::Tensor expert_out;
    if (keep_expert_out) expert_out = torch::zeros({N, k, d}, x.options());

    // Group the (token, slot) pairs by expert once: one sort instead of E scans.
    const at::Tensor flat_expert = top_i.reshape({-1});  // [N * k], pair p = token p / k, slot p % k
    const at::Tensor order = flat_expert.argsort();
    const at::Tensor counts = torch::bincount(flat_expert, /*weights=*/{}, E).cpu();
    const int64_t* count = counts.data_ptr<int64_t>();
    int64_t start = 0;
    for (int64_t e = 0; e < E; ++e) {
        const int64_t n = count[e];
        if (n == 0) continue;
        const at::Tensor pairs = order.narrow(0, start, n);
        start += n;
        const at::Tensor tokens = pairs.div(k, "floor");
        const at::Tensor slots = pairs.remainder(k);
        const at::Tensor y = swiglu(xf.index_select(0, tokens), w.W_gate[e], w.W_in[e], w.W_out[e]);  // [n, d]
        if (keep_expert_out) {
            expert_out.index_put_({tokens, slots}, y);
        } else {
            const at::Tensor wt = weights.index({tokens, slots}).unsqueeze(-1);
            out.index_add_(0, tokens, y * wt);
        }
    }
    if (keep_expert_out) {
        r.expert_out = expert_out.reshape({B, T, k, d});
        if (hooks.expert_out) r.expert_out = hooks.expert_out(r.expert_out);
        out = (r.expert_out.reshape({N, k, d}) * weights.unsqueeze(-1)).sum(1);
    }

    if (w.W_shared_gate.defined()) {
        const at::Tensor gate = torch::sigmoid(torch::matmul(xf, w.W_shared_router.reshape({d, 1})));  // [N, 1]
        const at::Tensor shared = gate * swiglu(xf, w.W_shared_gate, w.W_shared_in, w.W_shared_out);
        r.shared_out = shared.reshape({B, T, d});
        out = out + shared;
    }
    r.out = out.reshape({B, T, d});
    return r;
}

}  // namespace headscope
