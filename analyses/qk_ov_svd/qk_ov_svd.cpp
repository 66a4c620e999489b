// qk_ov_svd: the singular value decomposition of every head's QK circuit (W_Q·W_Kᵀ) and OV
// circuit (W_V·W_O) through FactoredMatrix (the d_model×d_model products are never formed),
// their effective ranks, the tokens the top singular directions read from and write to, and the
// OV copying score.
#include <torch/torch.h>

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "headscope/factored_matrix.hpp"
#include "headscope/sdk/analysis.hpp"
#include "headscope/sdk/result_helpers.hpp"
#include "qk_ov_svd/token_directions.hpp"

namespace headscope {

namespace {

// exp(entropy) of the singular values normalised to sum 1 (Roy & Vetterli's effective rank):
// between 1 (one direction) and the number of nonzero values (all equal). 0 for a zero matrix.
at::Tensor effective_rank(const at::Tensor& S) {
    const at::Tensor total = S.sum(-1, /*keepdim=*/true);
    const at::Tensor p = S / total.clamp_min(1e-300);
    const at::Tensor entropy = -(p * p.clamp_min(1e-300).log()).sum(-1);
    return at::where(total.squeeze(-1) > 0, entropy.exp(), at::zeros_like(entropy));
}

// sum(Re λ) / sum(|λ|) of the eigenvalues per row; 0 when all are 0.
at::Tensor copying_score(const at::Tensor& eigenvalues) {
    const at::Tensor re = at::real(eigenvalues).sum(-1);
    const at::Tensor mag = eigenvalues.abs().sum(-1);
    return at::where(mag > 0, re / mag.clamp_min(1e-300), at::zeros_like(re));
}

std::vector<double> to_vector(const at::Tensor& t) {
    const at::Tensor c = t.to(at::kDouble).cpu().contiguous();
    return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

std::string ranked(const HeadGrid& g, int count, bool highest) {
    return top_heads_text(g, static_cast<size_t>(count), highest ? HeadOrder::highest : HeadOrder::lowest);
}

const char* kRotaryNote =
    " For rotary models this is the circuit of the raw weights: it ignores positions (the rotation by the relative "
    "position is not applied). With q/k norms (Qwen3, Gemma-3, OLMo-2) their weights are folded into W_Q and W_K; "
    "their per-token RMS scale is not a weight and is not captured. Gemma's (1 + w) norm weights are folded as the "
    "applied factor, and an attention soft cap or output norm acts after the circuit.";

class QkOvSvd : public Analysis {
public:
    std::string id() const override { return "qk_ov_svd"; }
    std::string title() const override { return "QK and OV circuit spectra"; }
    std::string version() const override { return "1.0"; }
    std::string description() const override {
        return "Singular value decomposition of every head's QK circuit (W_Q·W_Kᵀ) and OV circuit (W_V·W_O), computed "
               "from the factors without forming the d_model×d_model products: singular spectra, effective rank, the "
               "tokens each top singular direction reads from and writes to (through W_E and W_U), and the OV "
               "copying score (eigenvalues of W_E·OV·W_U). GQA-aware. Weights only: prompts are not used." +
               std::string(kRotaryNote);
    }
    std::vector<ParamSpec> parameters() const override {
        return {
            ParamSpec::integer("top_k", 3, "singular directions per head listed with their tokens", 0, 64),
            ParamSpec::integer("tokens_per_direction", 8, "tokens listed per singular direction", 1, 100),
            ParamSpec::boolean("fold_norm_weights", true,
                               "scale W_Q, W_K, W_V by ln1's weight and W_U by the final norm's weight first (TransformerLens fold_ln, "
                               "without biases or centring)"),
            ParamSpec::boolean("per_head_spectra", true,
                               "add one Spectrum item per head (key spectrum_L<layer>H<head>, series QK and OV)"),
            ParamSpec::integer("singular_vectors", 4,
                               "top singular vector pairs stored per head (items qk_U, qk_V, ov_U, ov_V); 0 stores none",
                               0, 1e6),
        };
    }
    bool needs_prompts() const override { return false; }

    Result run(AnalysisContext& ctx) override {
        torch::NoGradGuard no_grad;
        const ModelConfig& c = ctx.config();
        const ModelWeights& w = ctx.model.weights();
        const int L = c.n_layers, H = c.n_heads;
        const bool fold = ctx.params.get_bool("fold_norm_weights");
        const int64_t tokens_per = ctx.params.get_int("tokens_per_direction");
        const int64_t top_k = std::min<int64_t>(ctx.params.get_int("top_k"), c.d_head);
        const CircuitOptions options{fold};

        // W_E·OV·W_U has the eigenvalues of W_O·(W_U·W_E)·W_V: one d_model×d_model product shared by all heads.
        const at::ScalarType proj_type = w.W_E.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
        const at::Tensor W_E = w.W_E.to(proj_type);
        at::Tensor W_U = w.W_U.to(proj_type);
        if (fold && w.ln_final_w.defined()) W_U = W_U * w.ln_final_w.to(proj_type).unsqueeze(1);
        const at::Tensor unembed_embed = at::matmul(W_U, W_E).to(at::kDouble);  // [d, d]

        const int64_t r = c.d_head;
        const int64_t n_vectors = std::min<int64_t>(ctx.params.get_int("singular_vectors"), std::min<int64_t>(r, c.d_model));
        std::vector<double> vectors[4];  // qk_U, qk_V, ov_U, ov_V: [L*H*n_vectors, d_model]
        std::vector<double> qk_rank, ov_rank, qk_norm, ov_norm, copying, qk_values, ov_values;
        std::vector<Spectrum> spectra;
        Table ov_table, qk_table;
        ov_table.columns = {"head", "direction", "singular_value", "reads_from", "writes_to"};
        qk_table.columns = {"head", "direction", "singular_value", "query_tokens", "key_tokens"};
        for (int l = 0; l < L; ++l) {
            ctx.step(static_cast<double>(l) / L, fmt::format("layer {}/{}", l + 1, L));
            const FactoredMatrix qk = qk_circuit(ctx.model, l, options).to(at::kDouble);
            const FactoredMatrix ov = ov_circuit(ctx.model, l, options).to(at::kDouble);
            const FactoredSvd qs = qk.svd(), os = ov.svd();  // S [H, r]
            append(qk_rank, to_vector(effective_rank(qs.S)));
            append(ov_rank, to_vector(effective_rank(os.S)));
            append(qk_norm, to_vector(qs.S.square().sum(-1).sqrt()));
            append(ov_norm, to_vector(os.S.square().sum(-1).sqrt()));
            append(copying, to_vector(copying_score(ov.sandwiched_eigenvalues(unembed_embed))));
            append(qk_values, to_vector(pad(qs.S, r)));
            append(ov_values, to_vector(pad(os.S, r)));
            if (ctx.params.get_bool("per_head_spectra"))
                for (int h = 0; h < H; ++h) spectra.push_back(spectrum(l, h, qs.S[h], os.S[h]));
            if (n_vectors > 0) {
                const at::Tensor sides[4] = {qs.U, qs.Vh.transpose(-1, -2), os.U, os.Vh.transpose(-1, -2)};  // [H, d, r]
                for (int i = 0; i < 4; ++i)
                    append(vectors[i], to_vector(sides[i].narrow(-1, 0, n_vectors).transpose(-1, -2)));  // [H, n, d]
            }
            if (top_k > 0) add_directions(ctx.tokenizer, l, qs, os, W_E, W_U, top_k, tokens_per, qk_table, ov_table);
        }

        Result result;
        const std::string fold_note = fold ? " ln1's weight is folded into W_Q, W_K, W_V." : "";
        result.items.push_back(make_head_grid("ov_copying_score", "OV copying score",
                                         "sum(Re λ)/sum(|λ|) over the eigenvalues λ of W_E·W_OV·W_U (A Mathematical "
                                         "Framework; TransformerLens): near 1 when the head copies the tokens it attends "
                                         "to, negative when it suppresses them." + fold_note,
                                         L, H, copying, Scale::diverging));
        result.items.push_back(make_head_grid("qk_effective_rank", "QK effective rank",
                                         "exp(entropy) of the QK singular values normalised to sum 1: 1 when one "
                                         "direction dominates, d_head when all are equal." + std::string(kRotaryNote),
                                         L, H, qk_rank));
        result.items.push_back(make_head_grid("ov_effective_rank", "OV effective rank",
                                         "exp(entropy) of the OV singular values normalised to sum 1: 1 when one "
                                         "direction dominates, d_head when all are equal.",
                                         L, H, ov_rank));
        result.items.push_back(make_head_grid("qk_norm", "QK Frobenius norm", "‖W_Q·W_Kᵀ‖_F of the head." + fold_note, L, H,
                                         qk_norm));
        result.items.push_back(make_head_grid("ov_norm", "OV Frobenius norm", "‖W_V·W_O‖_F of the head." + fold_note, L, H,
                                         ov_norm));
        result.items.push_back(singular_matrix("qk_singular_values", "QK singular values", L, H, r, qk_values));
        result.items.push_back(singular_matrix("ov_singular_values", "OV singular values", L, H, r, ov_values));
        if (top_k > 0) {
            ov_table.key = "ov_directions";
            ov_table.title = "OV singular directions";
            ov_table.description =
                "Per head, the top singular directions of W_V·W_O: the tokens whose embeddings project most onto the "
                "input direction (reads_from) and the tokens whose unembeddings the output direction raises "
                "(writes_to). The sign of each singular pair is chosen so that its strongest read token is positive.";
            qk_table.key = "qk_directions";
            qk_table.title = "QK singular directions";
            qk_table.description =
                "Per head, the top singular directions of W_Q·W_Kᵀ: the tokens whose embeddings project most onto the "
                "query side and the key side (a query token of the first list attends to key tokens of the second). "
                "The sign of each pair is chosen so that its strongest query token is positive." +
                std::string(kRotaryNote);
            ov_table.appendix = qk_table.appendix = true;
            result.items.push_back(std::move(ov_table));
            result.items.push_back(std::move(qk_table));
        }
        if (n_vectors > 0) {
            const char* keys[4] = {"qk_U", "qk_V", "ov_U", "ov_V"};
            const char* what[4] = {"query-side (left) singular vectors of W_Q·W_Kᵀ: the residual directions a query reads",
                                   "key-side (right) singular vectors of W_Q·W_Kᵀ: the residual directions a key reads",
                                   "input (left) singular vectors of W_V·W_O: the residual directions the head reads",
                                   "output (right) singular vectors of W_V·W_O: the residual directions the head writes"};
            for (int i = 0; i < 4; ++i) {
                Matrix m = vector_matrix(keys[i], what[i], L, H, n_vectors, c.d_model, std::move(vectors[i]));
                m.appendix = true;  // reference material: the report's appendix
                result.items.push_back(std::move(m));
            }
        }
        for (Spectrum& s : spectra) {
            s.appendix = true;  // every head's spectrum: small multiples in the report's appendix
            result.items.push_back(std::move(s));
        }

        const HeadGrid& copy_grid = std::get<HeadGrid>(result.items[0]);
        result.summary.push_back("highest OV copying score: " + ranked(copy_grid, 3, true));
        // Top list: heads whose OV circuit copies (most of W_E·OV·W_U's eigenvalue mass positive).
        const auto copiers = add_roles(result, copy_grid, "copying OV circuit", 3, HeadOrder::highest, kCopyingRole);
        const auto low_rank = top_heads(std::get<HeadGrid>(result.items[1]), 1, HeadOrder::lowest);
        result.headline = copiers.empty()
                              ? fmt::format("No head's OV circuit copies tokens (no copying score reaches {:g}; highest {})",
                                            kCopyingRole, heads_sentence(top_heads(copy_grid, 1), "{:.2f}"))
                              : fmt::format("{} {} the most strongly copying OV circuit{} (copying score, 1 = pure copying)",
                                            heads_sentence(copiers, "{:.2f}"), copiers.size() == 1 ? "has" : "have",
                                            copiers.size() == 1 ? "" : "s");
        if (!low_rank.empty())
            result.headline += fmt::format("; the lowest QK effective rank is {}'s ({:.2f} of d_head {})",
                                           head_label(low_rank.front().head), low_rank.front().value, c.d_head);
        result.headline += ".";
        result.summary.push_back("lowest QK effective rank: " + ranked(std::get<HeadGrid>(result.items[1]), 3, false));
        result.summary.push_back("lowest OV effective rank: " + ranked(std::get<HeadGrid>(result.items[2]), 3, false));
        ctx.step(1.0, "done");
        return result;
    }

private:
    static constexpr double kCopyingRole = 0.5;  // copying score from which a head counts as copying
    static void append(std::vector<double>& to, const std::vector<double>& from) {
        to.insert(to.end(), from.begin(), from.end());
    }
    // Singular values [H, r'] padded with zeros to [H, r] (r' < r when d_model < d_head).
    static at::Tensor pad(const at::Tensor& S, int64_t r) {
        if (S.size(-1) >= r) return S.narrow(-1, 0, r);
        return at::constant_pad_nd(S, {0, r - S.size(-1)}, 0.0);
    }

    static Spectrum spectrum(int l, int h, const at::Tensor& qk, const at::Tensor& ov) {
        Spectrum s;
        s.key = fmt::format("spectrum_L{}H{}", l, h);
        s.head = HeadRef{l, h};
        s.title = fmt::format("{} QK and OV singular values", head_label(l, h));
        s.description = "Singular values of the head's QK circuit W_Q·W_Kᵀ and OV circuit W_V·W_O, largest first.";
        s.series_names = {"QK", "OV"};
        s.series = {to_vector(qk), to_vector(ov)};
        s.x_axis = "singular direction";
        s.y_axis = "singular value";
        return s;
    }

    static Matrix singular_matrix(std::string key, std::string title, int L, int H, int64_t r,
                                  std::vector<double> values) {
        Matrix m;
        m.key = std::move(key);
        m.title = std::move(title);
        m.description = "One row per head (layer-major), its singular values largest first.";
        m.rows = L * H;
        m.cols = static_cast<int>(r);
        m.values = std::move(values);
        for (int l = 0; l < L; ++l)
            for (int h = 0; h < H; ++h) m.row_labels.push_back(head_label(l, h));
        for (int64_t i = 0; i < r; ++i) m.col_labels.push_back(std::to_string(i + 1));
        m.row_axis = "head";
        m.col_axis = "singular direction";
        return m;
    }

    // Singular vectors as rows [L*H*n, d_model] (reshape to [layers, heads, n, d_model]); row
    // "L1H3 2" is the head's second vector, paired with the same row of the other side.
    static Matrix vector_matrix(const char* key, const char* what, int L, int H, int64_t n, int64_t d,
                                std::vector<double> values) {
        Matrix m;
        m.key = key;
        m.title = fmt::format("{} singular vectors", key);
        m.description = fmt::format("Top {} {} per head, one per row (layer-major, then head, then rank), in the d_model "
                                    "basis; row i of {}_U and {}_V form one singular pair (their signs are arbitrary but "
                                    "shared).",
                                    n, what, std::string(key, 2), std::string(key, 2));
        m.rows = static_cast<int>(L * H * n);
        m.cols = static_cast<int>(d);
        m.values = std::move(values);
        for (int l = 0; l < L; ++l)
            for (int h = 0; h < H; ++h)
                for (int64_t i = 0; i < n; ++i) m.row_labels.push_back(fmt::format("{} {}", head_label(l, h), i + 1));
        m.row_axis = "head and singular direction";
        m.col_axis = "d_model";
        m.scale = Scale::diverging;
        return m;
    }

    // One matrix product per layer and side: every head's top directions through W_E / W_U.
    static void add_directions(const Tokenizer& tok, int l, const FactoredSvd& qs, const FactoredSvd& os,
                               const at::Tensor& W_E, const at::Tensor& W_U, int64_t top_k, int64_t tokens_per,
                               Table& qk_table, Table& ov_table) {
        const int64_t H = qs.S.size(0), k = std::min<int64_t>(top_k, qs.S.size(1));
        const auto first = [&](const at::Tensor& cols) {  // [H, d, r] -> [d, H*k]
            return cols.narrow(-1, 0, k).permute({1, 0, 2}).reshape({cols.size(1), H * k}).to(W_E.scalar_type());
        };
        const at::Tensor ov_in = first(os.U), ov_out = first(os.Vh.transpose(-1, -2));
        const at::Tensor qk_q = first(qs.U), qk_k = first(qs.Vh.transpose(-1, -2));
        at::Tensor reads = at::matmul(W_E, ov_in);                // [V, H*k]
        at::Tensor writes = at::matmul(ov_out.t(), W_U).t();      // [V, H*k]
        at::Tensor queries = at::matmul(W_E, qk_q);
        at::Tensor keys = at::matmul(W_E, qk_k);
        const at::Tensor ov_sign = qk_ov::sign_by_strongest(reads), qk_sign = qk_ov::sign_by_strongest(queries);
        reads = reads * ov_sign;
        writes = writes * ov_sign;
        queries = queries * qk_sign;
        keys = keys * qk_sign;
        const auto reads_t = qk_ov::top_tokens(tok, reads, tokens_per), writes_t = qk_ov::top_tokens(tok, writes, tokens_per);
        const auto q_t = qk_ov::top_tokens(tok, queries, tokens_per), k_t = qk_ov::top_tokens(tok, keys, tokens_per);
        const at::Tensor qS = qs.S.cpu(), oS = os.S.cpu();
        for (int64_t h = 0; h < H; ++h)
            for (int64_t i = 0; i < k; ++i) {
                const auto j = static_cast<size_t>(h * k + i);
                const std::string head = head_label(l, static_cast<int>(h));
                ov_table.rows.push_back({head, i + 1, oS[h][i].item<double>(), reads_t[j], writes_t[j]});
                qk_table.rows.push_back({head, i + 1, qS[h][i].item<double>(), q_t[j], k_t[j]});
            }
    }
};

}  // namespace

void register_qk_ov_svd(AnalysisRegistry& registry) {
    registry.add([] { return std::make_unique<QkOvSvd>(); });
}

}  // namespace headscope
