// Attribution patching (Nanda 2023): the patching effect of head h is estimated to first order
// as ∂metric/∂z_h at the corrupted run · (z_h,clean − z_h,corrupted), for every head from one
// forward and one backward pass. The hook on every hook_z adds a zero leaf that requires grad
// (z + 0), so ∂metric/∂leaf is the total derivative through every later layer; the weights need
// no gradient.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "head_attribution/attribution_parts.hpp"
#include "headscope/hook_names.hpp"

namespace headscope::attribution {

std::vector<AttributionPrompt> attribution_patching(HookedTransformer& model, const torch::Tensor& corrupted_tokens,
                                                    const std::vector<torch::Tensor>& clean_z, bool final_only,
                                                    MetricKind kind, const std::vector<Target>& targets) {
    const ModelConfig& cfg = model.config();
    const int L = cfg.n_layers;
    const int64_t B = corrupted_tokens.size(0);
    torch::AutoGradMode grad_on(true);
    auto leaves = std::make_shared<std::vector<torch::Tensor>>(static_cast<size_t>(L));
    auto values = std::make_shared<std::vector<torch::Tensor>>(static_cast<size_t>(L));
    std::vector<NamedHook> hooks;
    for (int l = 0; l < L; ++l)
        hooks.push_back({hook_name(HookKey{HookSite::attn_z, l}),
                         [leaves, values, l](const at::Tensor& z, const HookPoint&) -> std::optional<at::Tensor> {
                             torch::Tensor leaf = torch::zeros_like(z).requires_grad_(true);
                             (*leaves)[static_cast<size_t>(l)] = leaf;
                             (*values)[static_cast<size_t>(l)] = z.detach();
                             return z + leaf;
                         }});
    // Every metric reads the final position only: the others are not unembedded.
    torch::Tensor logits = model.run_with_hooks(corrupted_tokens, hooks, {-1});
    // The rows are independent, so the gradient of the sum holds each row's own gradient.
    std::vector<torch::Tensor> metrics;
    for (int64_t b = 0; b < B; ++b)
        metrics.push_back(metric_values(logits.narrow(0, b, 1), kind, targets[static_cast<size_t>(b)])[0]);
    torch::Tensor total = torch::stack(metrics).sum();
    std::vector<torch::Tensor> grads = torch::autograd::grad({total}, *leaves, /*grad_outputs=*/{},
                                                             /*retain_graph=*/false, /*create_graph=*/false,
                                                             /*allow_unused=*/true);
    torch::NoGradGuard no_grad;
    std::vector<AttributionPrompt> out(static_cast<size_t>(B));
    for (int64_t b = 0; b < B; ++b) {
        out[static_cast<size_t>(b)].corrupted_metric = metrics[static_cast<size_t>(b)].item<double>();
        out[static_cast<size_t>(b)].heads.reserve(static_cast<size_t>(L * cfg.n_heads));
    }
    for (int l = 0; l < L; ++l) {
        const torch::Tensor& corr = (*values)[static_cast<size_t>(l)];  // [B, T, H, dh]
        torch::Tensor grad = grads[static_cast<size_t>(l)].defined() ? grads[static_cast<size_t>(l)]
                                                                      : torch::zeros_like(corr);
        torch::Tensor clean = clean_z[static_cast<size_t>(l)].to(corr.device(), corr.scalar_type());
        torch::Tensor per_head;  // [B, H]
        if (final_only) {
            const torch::Tensor delta = clean - corr.select(1, -1);  // [B, H, dh]
            per_head = (grad.select(1, -1).to(torch::kDouble) * delta.to(torch::kDouble)).sum(-1);
        } else {
            const torch::Tensor delta = clean - corr;  // [B, T, H, dh]
            per_head = (grad.to(torch::kDouble) * delta.to(torch::kDouble)).sum(-1).sum(1);
        }
        per_head = per_head.cpu().contiguous();
        const double* v = per_head.data_ptr<double>();
        for (int64_t b = 0; b < B; ++b)
            for (int h = 0; h < cfg.n_heads; ++h) out[static_cast<size_t>(b)].heads.push_back(v[b * cfg.n_heads + h]);
    }
    return out;
}

namespace {
std::vector<double> ranks(const std::vector<double>& v) {
    std::vector<size_t> order(v.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
    std::vector<double> r(v.size());
    for (size_t i = 0; i < order.size();) {
        size_t j = i;
        while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) ++j;
        const double avg = (static_cast<double>(i) + static_cast<double>(j)) / 2.0 + 1.0;
        for (size_t k = i; k <= j; ++k) r[order[k]] = avg;
        i = j + 1;
    }
    return r;
}
}  // namespace

double pearson(const std::vector<double>& a, const std::vector<double>& b) {
    const size_t n = std::min(a.size(), b.size());
    if (n < 2) return std::nan("");
    double ma = 0, mb = 0;
    for (size_t i = 0; i < n; ++i) ma += a[i], mb += b[i];
    ma /= static_cast<double>(n);
    mb /= static_cast<double>(n);
    double sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < n; ++i) {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (b[i] - mb) * (b[i] - mb);
    }
    if (saa <= 0 || sbb <= 0) return std::nan("");
    return sab / std::sqrt(saa * sbb);
}

double spearman(const std::vector<double>& a, const std::vector<double>& b) { return pearson(ranks(a), ranks(b)); }

}  // namespace headscope::attribution
