// head_usage (Mixture-of-Head attention): per token and layer, the share of the attention
// output carried by each head — ‖z_h·W_O[h]‖ / Σ_h' ‖z_h'·W_O[h']‖ — its entropy and the fewest
// heads that carry half of it; averaged per layer and listed per token. The norms come from
// d_head×d_head Gram matrices (‖z·W_O‖² = z·(W_O·W_Oᵀ)·zᵀ), so no [T, H, d_model] tensor is formed.
#include <torch/torch.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "headscope/sdk/analysis.hpp"
#include "headscope/sdk/result_helpers.hpp"

namespace headscope {

namespace {

struct Usage {
    at::Tensor share;    // [T, H] shares of the layer's summed head-output norm, rows sum to 1
    at::Tensor entropy;  // [T] nats
    at::Tensor half;     // [T] fewest heads whose shares reach 0.5 (int64)
};

Usage usage_of(const at::Tensor& z, const at::Tensor& gram) {
    // z [T, H, dh], gram [H, dh, dh] -> norms [T, H]
    const at::Tensor norms = at::einsum("thi,hij,thj->th", {z, gram, z}).clamp_min(0).sqrt();
    const at::Tensor total = norms.sum(-1, /*keepdim=*/true);
    Usage u;
    u.share = at::where(total > 0, norms / total.clamp_min(1e-300), at::zeros_like(norms));
    u.entropy = -(u.share * u.share.clamp_min(1e-300).log()).sum(-1);
    const at::Tensor sorted = std::get<0>(u.share.sort(-1, /*descending=*/true));
    // Heads needed: 1 + number of prefixes still below one half.
    u.half = (sorted.cumsum(-1) < 0.5 - 1e-12).sum(-1) + 1;
    return u;
}

class HeadUsage : public Analysis {
public:
    std::string id() const override { return "head_usage"; }
    std::string title() const override { return "Head usage per token"; }
    std::string version() const override { return "1.0"; }
    std::string description() const override {
        return "For every token and layer, the share of the attention output each head carries, ‖z_h·W_O[h]‖ divided "
               "by the sum over the layer's heads (Mixture-of-Head attention asks how many heads a token needs), the "
               "entropy of those shares (0: one head does everything, ln(heads): all equal) and the fewest heads "
               "whose shares reach 50%. Averaged per head and per layer over every token of every prompt, and listed "
               "per token for the first prompts.";
    }
    std::vector<ParamSpec> parameters() const override {
        return {ParamSpec::integer("prompts_listed", 2, "prompts whose tokens are listed one by one", 0, 1e6),
                ParamSpec::boolean("skip_first_token", true,
                                   "leave position 0 (BOS, which attends only to itself) out of the averages")};
    }
    std::vector<std::string> hooks(const ModelConfig&, const ParamValues&) const override {
        return {"blocks.*.attn.hook_z"};
    }

    Result run(AnalysisContext& ctx) override {
        torch::NoGradGuard no_grad;
        const ModelConfig& c = ctx.config();
        const int L = c.n_layers, H = c.n_heads;
        const int64_t listed = ctx.params.get_int("prompts_listed");
        const int64_t first = ctx.params.get_bool("skip_first_token") ? 1 : 0;
        std::vector<at::Tensor> grams;
        for (int l = 0; l < L; ++l) {
            const at::Tensor W_O = ctx.model.weights().layers[static_cast<size_t>(l)].W_O.to(at::kDouble);  // [H, dh, d]
            grams.push_back(at::matmul(W_O, W_O.transpose(-1, -2)));
        }
        at::Tensor share_sum = at::zeros({L, H}, at::kDouble);
        at::Tensor entropy_sum = at::zeros({L}, at::kDouble), half_sum = at::zeros({L}, at::kDouble);
        int64_t counted = 0;
        Table per_token;
        per_token.key = "per_token";
        per_token.title = "Head usage per token";
        per_token.description = "For each listed prompt, token and layer: the entropy of the head shares (nats), the "
                                "fewest heads carrying 50% of the attention output and those heads with their shares.";
        per_token.columns = {"prompt", "position", "token", "layer", "entropy", "heads_for_half", "top_heads"};
        std::vector<TokenScores> token_items;
        const size_t N = ctx.prompts.size();
        for (size_t p = 0; p < N; ++p) {
            ctx.step(static_cast<double>(p) / static_cast<double>(N), fmt::format("prompt {}/{}", p + 1, N));
            const CachedRun& run = ctx.clean_run(p);
            const int64_t T = run.logits.size(1);
            at::Tensor token_entropy = at::zeros({T}, at::kDouble);
            for (int l = 0; l < L; ++l) {
                const at::Tensor z = run.cache.at(HookSite::attn_z, l)[0].to(at::kDouble).cpu();  // [T, H, dh]
                const Usage u = usage_of(z, grams[static_cast<size_t>(l)]);
                token_entropy += u.entropy / L;
                if (T > first) {
                    share_sum[l] += u.share.narrow(0, first, T - first).sum(0);
                    entropy_sum[l] += u.entropy.narrow(0, first, T - first).sum();
                    half_sum[l] += u.half.narrow(0, first, T - first).to(at::kDouble).sum();
                }
                if (static_cast<int64_t>(p) < listed) list_tokens(ctx.prompts[p], p, l, u, per_token);
            }
            counted += std::max<int64_t>(0, T - first);
            if (static_cast<int64_t>(p) < listed) {
                TokenScores ts;
                ts.key = fmt::format("usage_entropy_p{}", p);
                ts.title = fmt::format("Head-usage entropy per token, prompt {}", p);
                ts.description = "Entropy (nats) of the heads' shares of the attention output, averaged over layers: "
                                 "low where a few heads do the work.";
                ts.tokens = ctx.prompts[p].token_texts;
                const at::Tensor e = token_entropy.contiguous();
                ts.scores.assign(e.data_ptr<double>(), e.data_ptr<double>() + e.numel());
                token_items.push_back(std::move(ts));
            }
        }
        if (counted == 0) throw UsageError("head_usage: the prompts have no token after the first; give longer prompts");
        const double n = static_cast<double>(counted);
        const at::Tensor mean_share = (share_sum / n).contiguous();
        Result result;
        result.items.push_back(make_head_grid(
            "mean_share", "Mean share of the attention output",
            "Per head, its share ‖z_h·W_O[h]‖ / Σ_h' ‖z_h'·W_O[h']‖ of its layer's attention output, averaged over "
            "tokens (rows sum to 1 per layer).",
            L, H, std::vector<double>(mean_share.data_ptr<double>(), mean_share.data_ptr<double>() + mean_share.numel())));
        Table per_layer;
        per_layer.key = "per_layer";
        per_layer.title = "Head usage per layer";
        per_layer.description = fmt::format(
            "Averages over {} token(s): entropy of the head shares (nats; ln({}) = {:.3f} when all heads share equally), "
            "its exponential (the effective number of heads) and the fewest heads carrying 50%.",
            counted, H, std::log(static_cast<double>(H)));
        per_layer.columns = {"layer", "mean_entropy", "effective_heads", "mean_heads_for_half", "most_used_head", "its_share"};
        for (int l = 0; l < L; ++l) {
            const double e = entropy_sum[l].item<double>() / n, half = half_sum[l].item<double>() / n;
            const int64_t top = mean_share[l].argmax().item<int64_t>();
            per_layer.rows.push_back({static_cast<int64_t>(l), e, std::exp(e), half, head_label(l, static_cast<int>(top)),
                                      mean_share[l][top].item<double>()});
            result.summary.push_back(fmt::format("layer {}: entropy {:.3f} (effective heads {:.2f} of {}), {:.2f} heads carry "
                                                 "half; most used {} ({:.2f})",
                                                 l, e, std::exp(e), H, half, head_label(l, static_cast<int>(top)),
                                                 mean_share[l][top].item<double>()));
        }
        result.items.push_back(std::move(per_layer));
        result.items.push_back(std::move(per_token));
        for (auto& ts : token_items) result.items.push_back(std::move(ts));
        ctx.step(1.0, "done");
        return result;
    }

private:
    static void list_tokens(const TokenizedPrompt& prompt, size_t p, int l, const Usage& u, Table& table) {
        const int64_t T = u.share.size(0);
        const auto [shares, order] = u.share.sort(-1, /*descending=*/true);
        for (int64_t t = 0; t < T; ++t) {
            const int64_t k = u.half[t].item<int64_t>();
            std::string heads;
            for (int64_t i = 0; i < k; ++i)
                heads += fmt::format("{}{} {:.2f}", i ? ", " : "", head_label(l, static_cast<int>(order[t][i].item<int64_t>())),
                                     shares[t][i].item<double>());
            table.rows.push_back({static_cast<int64_t>(p), t,
                                  t < static_cast<int64_t>(prompt.token_texts.size()) ? prompt.token_texts[static_cast<size_t>(t)]
                                                                                       : std::string(),
                                  static_cast<int64_t>(l), u.entropy[t].item<double>(), k, heads});
        }
    }
};

}  // namespace

void register_head_usage(AnalysisRegistry& registry) {
    registry.add([] { return std::make_unique<HeadUsage>(); });
}

}  // namespace headscope
