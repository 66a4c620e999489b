// weight_geometry: per head, how symmetric its QK circuit is ("Reducing the Transformer
// Architecture to a Minimum") and the nuclear norm of its OV circuit next to the factored bound
// (½(‖W_V‖²+‖W_O‖²), the out-of-context-reasoning paper's regulariser). All from d_head×d_head
// matrices: with M = W_Q·W_Kᵀ, ‖S‖²−‖A‖² = tr(M²) = tr((W_Kᵀ·W_Q)²) and ‖S‖²+‖A‖² = ‖M‖_F².
#include <torch/torch.h>

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "headscope/factored_matrix.hpp"
#include "headscope/sdk/analysis.hpp"
#include "headscope/sdk/result_helpers.hpp"

namespace headscope {

namespace {

std::vector<double> to_vector(const at::Tensor& t) {
    const at::Tensor c = t.to(at::kDouble).cpu().contiguous();
    return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

// "L1H3 0.981, L0H2 0.970, ..." : the `count` heads with the largest (or smallest) values.
std::string extremes(const std::vector<double>& v, int heads, size_t count, bool highest) {
    std::vector<size_t> order(v.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return highest ? v[a] > v[b] : v[a] < v[b]; });
    std::string out;
    for (size_t i = 0; i < order.size() && i < count; ++i)
        out += fmt::format("{}{} {:.3f}", i ? ", " : "",
                           head_label(static_cast<int>(order[i]) / heads, static_cast<int>(order[i]) % heads), v[order[i]]);
    return out;
}

class WeightGeometry : public Analysis {
public:
    std::string id() const override { return "weight_geometry"; }
    std::string title() const override { return "Weight geometry of the heads"; }
    std::string version() const override { return "1.0"; }
    std::string description() const override {
        return "Per head: qk_symmetry = (‖S‖²−‖A‖²)/(‖S‖²+‖A‖²) of M = W_Q·W_Kᵀ (S, A its symmetric and antisymmetric "
               "parts; 1 symmetric, −1 antisymmetric; Reducing the Transformer Architecture to a Minimum), the OV "
               "circuit's nuclear norm ‖W_V·W_O‖_* and the factored bound (‖W_V‖_F²+‖W_O‖_F²)/2 it never exceeds "
               "(equal when the factors are balanced; the out-of-context-reasoning paper). Computed from d_head×d_head "
               "matrices. GQA-aware (each query head with its kv head). Weights only; for rotary models the QK "
               "circuit of the raw weights (relative position 0).";
    }
    std::vector<ParamSpec> parameters() const override {
        return {ParamSpec::boolean("fold_norm_weights", true,
                                   "scale W_Q, W_K, W_V by ln1's weight first (TransformerLens fold_ln, without biases or "
                                   "centring); false uses the raw weights")};
    }
    bool needs_prompts() const override { return false; }

    Result run(AnalysisContext& ctx) override {
        torch::NoGradGuard no_grad;
        const ModelConfig& c = ctx.config();
        const int L = c.n_layers, H = c.n_heads;
        const bool fold = ctx.params.get_bool("fold_norm_weights");
        const CircuitOptions options{fold};
        std::vector<double> symmetry, nuclear, factored;
        for (int l = 0; l < L; ++l) {
            ctx.step(static_cast<double>(l) / L, fmt::format("layer {}/{}", l + 1, L));
            const FactoredMatrix qk = qk_circuit(ctx.model, l, options).to(at::kDouble);  // A = W_Q [H,d,dh], B = W_Kᵀ
            const at::Tensor inner = at::matmul(qk.B(), qk.A());                           // W_Kᵀ·W_Q [H, dh, dh]
            const at::Tensor trace_sq = (inner * inner.transpose(-1, -2)).sum({-2, -1});    // tr(M²)
            const at::Tensor norm_sq = qk.frobenius_norm().square();                       // ‖M‖_F²
            append(symmetry, to_vector(at::where(norm_sq > 0, trace_sq / norm_sq.clamp_min(1e-300), at::zeros_like(norm_sq))));
            const FactoredMatrix ov = ov_circuit(ctx.model, l, options).to(at::kDouble);  // A = W_V[kv(h)], B = W_O[h]
            append(nuclear, to_vector(ov.singular_values().sum(-1)));
            append(factored, to_vector((ov.A().square().sum({-2, -1}) + ov.B().square().sum({-2, -1})) / 2));
        }
        const std::string fold_note = fold ? " ln1's weight is folded into W_Q, W_K, W_V." : " Raw weights (no folding).";
        std::vector<double> ratio(nuclear.size());
        for (size_t i = 0; i < ratio.size(); ++i) ratio[i] = factored[i] > 0 ? nuclear[i] / factored[i] : 0.0;

        Result result;
        result.summary.push_back("most symmetric QK: " + extremes(symmetry, H, 3, true));
        result.summary.push_back("most antisymmetric QK: " + extremes(symmetry, H, 3, false));
        result.summary.push_back(fmt::format("mean qk_symmetry {:.3f}; mean ov_nuclear_norm / ov_factored_norm {:.3f}",
                                             mean(symmetry), mean(ratio)));
        result.items.push_back(make_head_grid(
            "qk_symmetry", "QK symmetry",
            "(‖S‖²−‖A‖²)/(‖S‖²+‖A‖²) with M = W_Q·W_Kᵀ (d_model basis), S = (M+Mᵀ)/2, A = (M−Mᵀ)/2: 1 when the head "
            "scores pairs symmetrically (a query attends to keys that would attend back), −1 when antisymmetric." + fold_note,
            L, H, std::move(symmetry), Scale::diverging));
        result.items.push_back(make_head_grid("ov_nuclear_norm", "OV nuclear norm",
                                              "‖W_V·W_O‖_*: the sum of the OV circuit's singular values." + fold_note, L, H,
                                              std::move(nuclear)));
        result.items.push_back(make_head_grid(
            "ov_factored_norm", "OV factored norm",
            "(‖W_V‖_F²+‖W_O‖_F²)/2, an upper bound of the nuclear norm reached when the two factors are balanced "
            "(W_V = U·√Σ·R, W_O = Rᵀ·√Σ·Vᵀ); weight decay on the factors minimises it." + fold_note,
            L, H, std::move(factored)));
        result.items.push_back(make_head_grid("ov_norm_ratio", "OV nuclear / factored norm",
                                              "ov_nuclear_norm / ov_factored_norm, in [0, 1]: 1 when the factors are balanced.",
                                              L, H, std::move(ratio)));
        ctx.step(1.0, "done");
        return result;
    }

private:
    static void append(std::vector<double>& to, const std::vector<double>& from) {
        to.insert(to.end(), from.begin(), from.end());
    }
    static double mean(const std::vector<double>& v) {
        return v.empty() ? 0.0 : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
    }
};

}  // namespace

void register_weight_geometry(AnalysisRegistry& registry) {
    registry.add([] { return std::make_unique<WeightGeometry>(); });
}

}  // namespace headscope
