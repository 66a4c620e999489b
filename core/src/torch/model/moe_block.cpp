#include "model/moe_block.hpp"

#include <torch/torch.h>

#include "headscope/hooks.hpp"
#include "model/layer_compute.hpp"
#include "model/moe_mlp.hpp"

namespace headscope {

at::Tensor sparse_mlp(const HookRegistry& hooks, const ModelConfig& c, int layer, const LayerCompute& L,
                      const at::Tensor& x) {
    const MoeMlpWeights w{L.W_router,      L.W_expert_gate, L.W_expert_in,  L.W_expert_out,
                          L.W_shared_gate, L.W_shared_in,   L.W_shared_out, L.w_shared_router};
    const MoeMlpOptions options{c.moe.top_k, c.moe.normalize_topk};
    // Only the sites somebody hooks get a callback (an unhooked expert_out is never formed).
    auto site = [&](HookSite s) -> std::function<at::Tensor(const at::Tensor&)> {
        if (!hooks.wanted(s, layer)) return {};
        return [&hooks, s, layer](const at::Tensor& t) { return hooks.apply(s, layer, t); };
    };
    MoeMlpHooks h;
    h.router_logits = site(HookSite::mlp_router_logits);
    h.expert_indices = site(HookSite::mlp_expert_indices);
    h.expert_weights = site(HookSite::mlp_expert_weights);
    h.expert_out = site(HookSite::mlp_expert_out);
    // The weights are in the GEMM dtype (float32 where half GEMMs are slow); compute in it.
    const at::ScalarType gemm = L.W_router.scalar_type();
    const at::Tensor in = x.scalar_type() == gemm ? x : x.to(gemm);
    return moe_mlp_forward(in, w, options, h).out.to(x.scalar_type());
}

}  // namespace headscope
