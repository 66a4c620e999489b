#include "headscope/channel_edit.hpp"

#include <torch/torch.h>

#include <cmath>

#include <fmt/format.h>

#include "headscope/error.hpp"
#include "headscope/factored_matrix.hpp"
#include "headscope/hook_names.hpp"
#include "headscope/hooked_transformer.hpp"

namespace headscope {

at::Tensor channel_edit_map(const HookedTransformer& model, int layer, int head, const ChannelEditOptions& o) {
    const ModelConfig& c = model.config();
    if (layer < 0 || layer >= c.n_layers || head < 0 || head >= c.n_heads)
        throw UsageError(fmt::format("channel edit: head L{}H{} does not exist (the model has layers 0..{} with heads 0..{})",
                                     layer, head, c.n_layers - 1, c.n_heads - 1));
    if (o.rank < 1) throw UsageError(fmt::format("channel edit of L{}H{}: rank {} must be at least 1", layer, head, o.rank));
    if (!std::isfinite(o.scale))
        throw UsageError(fmt::format("channel edit of L{}H{}: scale {} is not finite", layer, head, o.scale));
    torch::NoGradGuard no_grad;
    const FactoredSvd svd = ov_circuit(model, layer, CircuitOptions{o.fold_norm_weights})[head].to(at::kDouble).svd();
    const at::Tensor S = svd.S.cpu();
    const int64_t nonzero = (S > S.max() * 1e-12).sum().item<int64_t>();
    const int64_t r = std::min(o.rank, nonzero);
    const at::Tensor W_O = model.weights().layers[static_cast<size_t>(layer)].W_O[head].to(torch::kCPU, torch::kDouble);
    const int64_t dh = W_O.size(0);
    at::Tensor M = torch::eye(dh, torch::kDouble);
    if (r == 0) return M;
    const at::Tensor Vr = svd.Vh.cpu().narrow(0, 0, r);  // [r, d_model]
    const at::Tensor lift = torch::linalg_pinv(W_O);     // [d_model, dh]
    return M + (o.scale - 1.0) * torch::matmul(torch::matmul(torch::matmul(W_O, Vr.t()), Vr), lift);
}

NamedHook channel_edit_hook(const HookedTransformer& model, int layer, const std::vector<int>& heads,
                            const ChannelEditOptions& o) {
    if (heads.empty()) throw UsageError(fmt::format("channel edit of layer {}: no heads given", layer));
    const int H = model.config().n_heads;
    const int64_t dh = model.config().d_head;
    at::Tensor maps = torch::eye(dh, torch::kDouble).unsqueeze(0).repeat({H, 1, 1});  // [H, dh, dh]
    std::vector<int64_t> chosen(static_cast<size_t>(H), 0);
    for (int h : heads) {
        maps[h].copy_(channel_edit_map(model, layer, h, o));
        chosen[static_cast<size_t>(h)] = 1;
    }
    const at::Tensor head_mask = torch::tensor(chosen, torch::kLong).to(torch::kBool).view({1, 1, H, 1});
    const Positions positions = o.positions;
    return {hook_name(HookKey{HookSite::attn_z, layer}),
            [maps, head_mask, positions](const at::Tensor& z, const HookPoint& p) -> std::optional<at::Tensor> {
                if (z.dim() != 4 || z.size(2) != maps.size(0) || z.size(3) != maps.size(1))
                    throw UsageError(fmt::format("{}: the channel edit expects [batch, pos, {}, {}]", p.name, maps.size(0),
                                                 maps.size(1)));
                at::Tensor mask = head_mask.to(z.device());
                if (!positions.empty()) {
                    const int64_t T = z.size(1);
                    std::vector<int64_t> hit(static_cast<size_t>(T), 0);
                    for (int64_t q : positions) {
                        const int64_t t = q < 0 ? q + T : q;
                        if (t < 0 || t >= T)
                            throw UsageError(fmt::format("{}: position {} is outside the run's {} positions", p.name, q, T));
                        hit[static_cast<size_t>(t)] = 1;
                    }
                    mask = mask.logical_and(torch::tensor(hit, torch::kLong).to(torch::kBool).view({1, T, 1, 1}).to(z.device()));
                }
                const at::Tensor edited = torch::einsum("bthi,hij->bthj", {z, maps.to(z.device(), z.scalar_type())});
                return torch::where(mask, edited, z);
            }};
}

}  // namespace headscope
