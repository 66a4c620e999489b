#include "headscope/factored_matrix.hpp"

#include <torch/torch.h>

#include <fmt/format.h>

#include <algorithm>
#include <string>

#include "headscope/error.hpp"
#include "headscope/formatting.hpp"
#include "headscope/hooked_transformer.hpp"

namespace headscope {

namespace {

at::IntArrayRef batch_of(const at::Tensor& t) { return t.sizes().slice(0, static_cast<size_t>(t.dim() - 2)); }

std::vector<int64_t> with_matrix(std::vector<int64_t> batch, int64_t r, int64_t c) {
    batch.push_back(r);
    batch.push_back(c);
    return batch;
}

}  // namespace

FactoredMatrix::FactoredMatrix(at::Tensor A, at::Tensor B) : A_(std::move(A)), B_(std::move(B)) {
    if (!A_.defined() || !B_.defined()) throw UsageError("FactoredMatrix: a factor is undefined");
    if (A_.dim() < 2 || B_.dim() < 2)
        throw UsageError(fmt::format("FactoredMatrix: factors need at least 2 dimensions, got A {} and B {}",
                                     shape_string(A_.sizes().vec()), shape_string(B_.sizes().vec())));
    if (A_.size(-1) != B_.size(-2))
        throw UsageError(fmt::format("FactoredMatrix: inner dimensions differ: A {} · B {}", shape_string(A_.sizes().vec()),
                                     shape_string(B_.sizes().vec())));
    if (A_.scalar_type() != B_.scalar_type())
        throw UsageError(fmt::format("FactoredMatrix: factors have different dtypes ({} and {})",
                                     c10::toString(A_.scalar_type()), c10::toString(B_.scalar_type())));
    if (!at::isFloatingType(A_.scalar_type()) && !at::isComplexType(A_.scalar_type()))
        throw UsageError(fmt::format("FactoredMatrix: factors must be floating point, got {}",
                                     c10::toString(A_.scalar_type())));
    try {
        (void)at::infer_size(batch_of(A_), batch_of(B_));
    } catch (const c10::Error&) {
        throw UsageError(fmt::format("FactoredMatrix: batch dimensions of A {} and B {} do not broadcast",
                                     shape_string(A_.sizes().vec()), shape_string(B_.sizes().vec())));
    }
}

int64_t FactoredMatrix::rows() const { return A_.size(-2); }
int64_t FactoredMatrix::cols() const { return B_.size(-1); }
int64_t FactoredMatrix::inner() const { return A_.size(-1); }

std::vector<int64_t> FactoredMatrix::batch_shape() const { return at::infer_size(batch_of(A_), batch_of(B_)); }

FactoredMatrix FactoredMatrix::transpose() const {
    return FactoredMatrix(B_.transpose(-1, -2), A_.transpose(-1, -2));
}

FactoredMatrix FactoredMatrix::matmul(const at::Tensor& M) const {
    if (!M.defined() || M.dim() < 2 || M.size(-2) != cols())
        throw UsageError(fmt::format("FactoredMatrix: cannot multiply a [{}, {}] matrix by {}", rows(), cols(),
                                     M.defined() ? shape_string(M.sizes().vec()) : std::string("an undefined tensor")));
    return FactoredMatrix(A_, at::matmul(B_, M.to(B_.scalar_type())));
}

FactoredMatrix FactoredMatrix::rmatmul(const at::Tensor& M) const {
    if (!M.defined() || M.dim() < 2 || M.size(-1) != rows())
        throw UsageError(fmt::format("FactoredMatrix: cannot multiply {} by a [{}, {}] matrix",
                                     M.defined() ? shape_string(M.sizes().vec()) : std::string("an undefined tensor"), rows(),
                                     cols()));
    return FactoredMatrix(at::matmul(M.to(A_.scalar_type()), A_), B_);
}

FactoredMatrix FactoredMatrix::matmul(const FactoredMatrix& other) const {
    if (other.rows() != cols())
        throw UsageError(fmt::format("FactoredMatrix: cannot multiply a [{}, {}] by a [{}, {}] factored matrix", rows(),
                                     cols(), other.rows(), other.cols()));
    const at::Tensor middle = at::matmul(B_, other.A_.to(B_.scalar_type()));  // [.., k1, k2]
    if (inner() <= other.inner()) return FactoredMatrix(A_, at::matmul(middle, other.B_.to(B_.scalar_type())));
    return FactoredMatrix(at::matmul(A_, middle), other.B_.to(A_.scalar_type()));
}

FactoredMatrix FactoredMatrix::operator[](int64_t index) const {
    const std::vector<int64_t> batch = batch_shape();
    if (batch.empty()) throw UsageError("FactoredMatrix: indexing a matrix that has no batch dimension");
    if (index < 0 || index >= batch[0])
        throw UsageError(fmt::format("FactoredMatrix: index {} is outside the batch of size {}", index, batch[0]));
    const auto pick = [&](const at::Tensor& t) {
        if (t.dim() < static_cast<int64_t>(batch.size()) + 2) return t;  // broadcast along this dimension
        return t.select(0, t.size(0) == 1 ? 0 : index);
    };
    return FactoredMatrix(pick(A_), pick(B_));
}

FactoredMatrix FactoredMatrix::to(at::ScalarType dtype) const { return FactoredMatrix(A_.to(dtype), B_.to(dtype)); }

FactoredSvd FactoredMatrix::svd() const {
    const std::vector<int64_t> batch = batch_shape();
    const at::Tensor A = A_.expand(with_matrix(batch, rows(), inner()));
    const at::Tensor Bt = B_.expand(with_matrix(batch, inner(), cols())).transpose(-1, -2);
    auto [Qa, Ra] = at::linalg_qr(A, "reduced");   // [.., m, r1], [.., r1, k]
    auto [Qb, Rb] = at::linalg_qr(Bt, "reduced");  // [.., n, r2], [.., r2, k]
    const at::Tensor middle = at::matmul(Ra, Rb.transpose(-1, -2));  // [.., r1, r2]
    auto [Um, S, Vhm] = at::linalg_svd(middle, /*full_matrices=*/false);
    return FactoredSvd{at::matmul(Qa, Um), S, at::matmul(Vhm, Qb.transpose(-1, -2))};
}

at::Tensor FactoredMatrix::singular_values() const {
    const std::vector<int64_t> batch = batch_shape();
    const at::Tensor A = A_.expand(with_matrix(batch, rows(), inner()));
    const at::Tensor Bt = B_.expand(with_matrix(batch, inner(), cols())).transpose(-1, -2);
    const at::Tensor Ra = std::get<1>(at::linalg_qr(A, "r"));
    const at::Tensor Rb = std::get<1>(at::linalg_qr(Bt, "r"));
    return at::linalg_svdvals(at::matmul(Ra, Rb.transpose(-1, -2)));
}

at::Tensor FactoredMatrix::frobenius_norm() const {
    const at::Tensor AtA = at::matmul(A_.transpose(-1, -2), A_);  // [.., k, k]
    const at::Tensor BBt = at::matmul(B_, B_.transpose(-1, -2));  // [.., k, k], symmetric
    return (AtA * BBt).sum({-2, -1}).clamp_min(0).sqrt();
}

at::Tensor FactoredMatrix::eigenvalues() const {
    if (rows() != cols())
        throw UsageError(fmt::format("FactoredMatrix: eigenvalues of a non-square [{}, {}] matrix", rows(), cols()));
    if (inner() <= rows()) return at::linalg_eigvals(at::matmul(B_, A_));
    return at::linalg_eigvals(dense());
}

at::Tensor FactoredMatrix::sandwiched_eigenvalues(const at::Tensor& right_left) const {
    if (!right_left.defined() || right_left.dim() < 2 || right_left.size(-2) != cols() ||
        right_left.size(-1) != rows())
        throw UsageError(fmt::format("FactoredMatrix: R·L must be [{}, {}] for a [{}, {}] matrix, got {}", cols(),
                                     rows(), rows(), cols(),
                                     right_left.defined() ? shape_string(right_left.sizes().vec()) : std::string("undefined")));
    const at::Tensor small = at::matmul(at::matmul(B_, right_left.to(B_.scalar_type())), A_);  // [.., k, k]
    return at::linalg_eigvals(small);
}

at::Tensor FactoredMatrix::dense() const { return at::matmul(A_, B_); }

at::Tensor pairwise_product_norms(const FactoredMatrix& left, const FactoredMatrix& right) {
    if (left.batch_shape().size() != 1 || right.batch_shape().size() != 1)
        throw UsageError("pairwise_product_norms: both factored matrices need exactly one batch dimension");
    if (left.cols() != right.rows())
        throw UsageError(fmt::format("pairwise_product_norms: cannot multiply [{}, {}] by [{}, {}] matrices",
                                     left.rows(), left.cols(), right.rows(), right.cols()));
    const at::ScalarType dtype = left.A().scalar_type();
    const int64_t a = left.batch_shape()[0], b = right.batch_shape()[0], n = left.cols();
    const at::Tensor A1 = left.A().expand({a, left.rows(), left.inner()});
    const at::Tensor B1 = left.B().expand({a, left.inner(), n});
    const at::Tensor A2 = right.A().expand({b, n, right.inner()}).to(dtype);
    const at::Tensor B2 = right.B().expand({b, right.inner(), right.cols()}).to(dtype);
    // X_a·Y_b = Q1·(R1·B1)·(A2·R2ᵀ)·Q2ᵀ with Q1, Q2 orthonormal: the norm is that of the middle.
    const at::Tensor R1 = std::get<1>(at::linalg_qr(A1, "r"));                       // [a, r1, k1]
    const at::Tensor R2 = std::get<1>(at::linalg_qr(B2.transpose(-1, -2), "r"));     // [b, r2, k2]
    const at::Tensor L = at::matmul(R1, B1);                                         // [a, r1, n]
    const at::Tensor Rt = at::matmul(A2, R2.transpose(-1, -2));                      // [b, n, r2]
    const int64_t r1 = L.size(1), r2 = Rt.size(2);
    const at::Tensor right_cols = Rt.permute({1, 0, 2}).reshape({n, b * r2});
    // Bound the [chunk·r1, b·r2] intermediate to about 2^24 elements.
    const int64_t per_row = std::max<int64_t>(1, r1 * b * r2);
    const int64_t chunk = std::max<int64_t>(1, (int64_t{1} << 24) / per_row);
    at::Tensor out = at::empty({a, b}, L.options());
    for (int64_t start = 0; start < a; start += chunk) {
        const int64_t len = std::min(chunk, a - start);
        const at::Tensor rows = L.narrow(0, start, len).reshape({len * r1, n});
        const at::Tensor prod = at::matmul(rows, right_cols).view({len, r1, b, r2});
        out.narrow(0, start, len).copy_(prod.square().sum({1, 3}).sqrt());
    }
    return out;
}

namespace {

// In the compute dtype, converted for this call when the model streams its weights.
LayerWeights layer_weights(const HookedTransformer& model, int layer, const char* what) {
    const ModelConfig& c = model.config();
    if (layer < 0 || layer >= c.n_layers)
        throw UsageError(fmt::format("{}: layer {} is out of range (the model has {} layers)", what, layer, c.n_layers));
    return model.layer_weights(layer);
}

// kv head of every query head: h / (n_heads / n_kv_heads).
at::Tensor kv_index(const ModelConfig& c, const at::Tensor& like) {
    return at::arange(c.n_heads, like.options().dtype(at::kLong)).div(c.group_size(), "floor");
}

// Scales the d_model (row) side of W [heads, d_model, d_head] by the norm weight.
at::Tensor fold_rows(const at::Tensor& W, const at::Tensor& norm_w, const CircuitOptions& o) {
    if (!o.fold_norm_weights || !norm_w.defined()) return W;
    return W * norm_w.to(W.scalar_type()).view({1, -1, 1});
}

// Folds a q/k norm's weight into the d_head (column) side of W [heads, d_model, d_head]: one
// [d_head] weight for every head, or [heads * d_head] (full-width, OLMo-2). The norm's
// per-position RMS scale is not a weight and stays out of the circuit.
at::Tensor fold_cols(const at::Tensor& W, const at::Tensor& qk_norm_w, const CircuitOptions& o) {
    if (!o.fold_norm_weights || !qk_norm_w.defined()) return W;
    const int64_t heads = qk_norm_w.numel() == W.size(2) ? 1 : W.size(0);
    return W * qk_norm_w.to(W.scalar_type()).view({heads, 1, W.size(2)});
}

}  // namespace

FactoredMatrix qk_circuit(const HookedTransformer& model, int layer, CircuitOptions options) {
    const LayerWeights L = layer_weights(model, layer, "qk_circuit");
    const at::Tensor W_Q = fold_cols(fold_rows(L.W_Q, L.ln1_w, options), L.q_norm_w, options);  // [H, d, dh]
    const at::Tensor W_K = fold_cols(fold_rows(L.W_K, L.ln1_w, options), L.k_norm_w, options)
                               .index_select(0, kv_index(model.config(), L.W_K));
    return FactoredMatrix(W_Q, W_K.transpose(-1, -2));
}

FactoredMatrix ov_circuit(const HookedTransformer& model, int layer, CircuitOptions options) {
    const LayerWeights L = layer_weights(model, layer, "ov_circuit");
    const at::Tensor W_V = fold_rows(L.W_V, L.ln1_w, options).index_select(0, kv_index(model.config(), L.W_V));
    return FactoredMatrix(W_V, L.W_O);
}

}  // namespace headscope
