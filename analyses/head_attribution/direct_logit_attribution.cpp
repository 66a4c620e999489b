#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "head_attribution/attribution_parts.hpp"
#include "headscope/hook_names.hpp"

namespace headscope::attribution {

std::vector<std::string> dla_hooks(const ModelConfig& config) {
    std::vector<std::string> hooks{hook_name(HookKey{HookSite::embed, -1}), "blocks.*.attn.hook_z"};
    if (config.positions == PositionKind::learned) hooks.push_back(hook_name(HookKey{HookSite::pos_embed, -1}));
    if (!config.attn_only) hooks.push_back("blocks.*.hook_mlp_out");
    if (config.post_norms()) hooks.push_back("blocks.*.ln1_post.hook_scale");
    if (config.final_norm) hooks.push_back(hook_name(HookKey{HookSite::ln_final_scale, -1}));
    return hooks;
}

namespace {
torch::Tensor f64(const at::Tensor& t) { return t.detach().to(torch::kCPU, torch::kDouble); }

// W_U · g in float64 without a float64 copy of the whole unembedding (d_model x d_vocab: 300 MB
// for GPT-2, GBs for today's vocabularies): only g's nonzero columns when g is sparse (logit
// differences, answer logits), else a column block at a time.
torch::Tensor unembed_direction(const at::Tensor& W_U, const torch::Tensor& g) {
    const torch::Tensor nonzero = g.nonzero().reshape({-1});
    if (nonzero.numel() <= 256)
        return torch::mv(f64(W_U.index_select(1, nonzero.to(W_U.device()))), g.index_select(0, nonzero));
    constexpr int64_t kBlock = 4096;
    torch::Tensor u = torch::zeros({W_U.size(0)}, torch::kDouble);
    for (int64_t start = 0; start < W_U.size(1); start += kBlock) {
        const int64_t n = std::min(kBlock, W_U.size(1) - start);
        u += torch::mv(f64(W_U.narrow(1, start, n)), g.narrow(0, start, n));
    }
    return u;
}
}  // namespace

DlaPrompt direct_logit_attribution(const HookedTransformer& model, const CachedRun& run, const torch::Tensor& direction) {
    torch::NoGradGuard no_grad;
    const ModelConfig& cfg = model.config();
    const ModelWeights& W = model.weights();
    const ActivationCache& cache = run.cache;
    const torch::Tensor g = direction.detach().to(torch::kCPU, torch::kDouble);

    // u: the metric's direction in the residual stream after the final norm.
    const torch::Tensor u = unembed_direction(W.W_U, g);
    DlaPrompt out;
    out.constant = W.b_U.defined() ? torch::dot(f64(W.b_U), g).item<double>() : 0.0;
    torch::Tensor w = u;
    if (cfg.final_norm) {
        // The norm's scale is frozen from the run, which makes the final norm linear.
        const double scale = f64(cache.at(HookSite::ln_final_scale)).select(1, -1).reshape({-1})[0].item<double>();
        w = u * f64(W.ln_final_w) / scale;
        if (W.ln_final_b.defined()) out.constant += torch::dot(f64(W.ln_final_b), u).item<double>();
    }
    const bool centre = cfg.final_norm && cfg.norm == NormKind::layer;
    auto project = [&](torch::Tensor c) {  // [..., d_model] -> [...]
        if (centre) c = c - c.mean(-1, true);
        return torch::matmul(c, w);
    };
    auto last = [&](HookSite site, int layer) { return f64(cache.at(site, layer)).select(0, 0).select(0, -1); };

    double total = 0;
    auto add = [&](std::string name, double value) {
        out.components.push_back({std::move(name), value});
        total += value;
    };
    add("embed", project(last(HookSite::embed, -1)).item<double>());
    if (cfg.positions == PositionKind::learned) add("pos_embed", project(last(HookSite::pos_embed, -1)).item<double>());

    torch::Tensor biases = torch::zeros({cfg.d_model}, torch::kDouble);
    out.heads.reserve(static_cast<size_t>(cfg.n_layers * cfg.n_heads));
    for (int l = 0; l < cfg.n_layers; ++l) {
        const LayerWeights L = model.layer_weights(l);
        torch::Tensor z = last(HookSite::attn_z, l);                                // [H, dh]
        torch::Tensor per_head = torch::einsum("hd,hdm->hm", {z, f64(L.W_O)});      // [H, d]
        // An attention output norm (Gemma-2/3, OLMo-2) is linear once its scale is frozen from
        // the run, so each head's share of hook_attn_out is its output times w / scale.
        torch::Tensor out_factor;
        if (cfg.post_norms()) out_factor = f64(L.ln1_post_w) / last(HookSite::ln1_post_scale, l).reshape({-1})[0];
        if (out_factor.defined()) per_head = per_head * out_factor;
        torch::Tensor contrib = project(per_head);                                  // [H]
        for (int h = 0; h < cfg.n_heads; ++h) {
            double v = contrib[h].item<double>();
            out.heads.push_back(v);
            total += v;
        }
        if (L.b_O.defined()) biases += out_factor.defined() ? f64(L.b_O) * out_factor : f64(L.b_O);
        if (!cfg.attn_only) {
            torch::Tensor mlp = last(HookSite::mlp_out, l);
            if (L.b_out.defined() && !cfg.post_norms()) {  // after an output norm the bias stays in the MLP's term
                mlp = mlp - f64(L.b_out);
                biases += f64(L.b_out);
            }
            add(fmt::format("mlp {}", l), project(mlp).item<double>());
        }
    }
    add("biases", project(biases).item<double>());

    // A final soft cap (Gemma-2) is applied after the sum: the decomposition is of the uncapped
    // logits, recovered exactly as cap * atanh(logit / cap).
    torch::Tensor logits = f64(run.logits).select(0, 0).select(0, -1);
    if (cfg.final_softcap > 0) logits = torch::atanh(logits / cfg.final_softcap) * cfg.final_softcap;
    out.metric_linear = torch::dot(logits, g).item<double>();
    out.error = std::abs(total + out.constant - out.metric_linear);
    return out;
}

}  // namespace headscope::attribution
