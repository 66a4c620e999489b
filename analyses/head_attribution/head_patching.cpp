// Per-head patching, batched: row i of a batch replaces the z of head i (of its layer) and
// leaves every other head alone, so one forward pass measures many heads.
#include <algorithm>

#include "head_attribution/attribution_parts.hpp"
#include "headscope/hook_names.hpp"

namespace headscope::attribution {

namespace {
// Rows per forward pass, keeping the activations of a pass around 2^25 floats (~128 MB).
int64_t rows_per_pass(const ModelConfig& c, int64_t T) {
    const int64_t per_row = T * (static_cast<int64_t>(c.d_vocab) + 8LL * c.d_model + 3LL * c.d_mlp +
                                 2LL * c.n_heads * T + 3LL * c.n_heads * c.d_head);
    return std::max<int64_t>(1, (int64_t{1} << 25) / std::max<int64_t>(per_row, 1));
}
}  // namespace

std::vector<double> patch_each_head(HookedTransformer& model, const torch::Tensor& tokens, const LayerSource& source,
                                    bool final_only, MetricKind kind, const Target& target,
                                    const std::function<void()>& check_cancelled) {
    torch::NoGradGuard no_grad;
    const ModelConfig& cfg = model.config();
    const int64_t L = cfg.n_layers, H = cfg.n_heads, T = tokens.size(1), n = L * H;
    const int64_t chunk = std::min<int64_t>(n, rows_per_pass(cfg, T));
    const auto device = model.options().device;
    std::vector<double> out(static_cast<size_t>(n), 0.0);
    for (int64_t begin = 0; begin < n; begin += chunk) {
        if (check_cancelled) check_cancelled();
        const int64_t end = std::min(n, begin + chunk), B = end - begin;
        std::vector<NamedHook> hooks;
        for (int l = static_cast<int>(begin / H); l <= static_cast<int>((end - 1) / H); ++l) {
            // mask[b, t, h] is true where row b patches head h of this layer at position t.
            torch::Tensor mask = torch::zeros({B, T, H, 1}, torch::kBool);
            for (int64_t row = 0; row < B; ++row) {
                const int64_t slot = begin + row;
                if (slot / H != l) continue;
                if (final_only)
                    mask.index_put_({row, T - 1, slot % H}, true);
                else
                    mask.index_put_({row, torch::indexing::Slice(), slot % H}, true);
            }
            mask = mask.to(device);
            torch::Tensor src = source(l);
            hooks.push_back({hook_name(HookKey{HookSite::attn_z, l}),
                             [mask, src](const at::Tensor& z, const HookPoint&) -> std::optional<at::Tensor> {
                                 return torch::where(mask, src.to(z.device(), z.scalar_type()), z);
                             }});
        }
        torch::Tensor logits = model.run_with_hooks(tokens.expand({B, T}).contiguous(), hooks);
        torch::Tensor m = metric_values(logits, kind, target).to(torch::kCPU, torch::kDouble).contiguous();
        for (int64_t row = 0; row < B; ++row) out[static_cast<size_t>(begin + row)] = m[row].item<double>();
    }
    return out;
}

}  // namespace headscope::attribution
