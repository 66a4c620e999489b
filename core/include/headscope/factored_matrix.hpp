// FactoredMatrix: a low-rank matrix A·B kept as its two factors and never formed, batched over
// leading dimensions (e.g. one matrix per head). A head's QK circuit W_Q·W_Kᵀ and OV circuit
// W_V·W_O are d_model×d_model matrices of rank d_head; everything an analysis wants from them
// (SVD, norms, eigenvalues, products) follows from d_head×d_head matrices.
//
// Conventions follow TransformerLens (row vectors: a residual x is read as x·W_Q): the QK
// circuit of query head h is W_Q[h]·W_K[kv(h)]ᵀ (query side rows, key side columns) and its OV
// circuit W_V[kv(h)]·W_O[h] (input rows, output columns), with kv(h) = h / (n_heads / n_kv_heads).
// For rotary models the QK circuit of the raw weights ignores positions: it is the bilinear form
// of the head before the rotation, i.e. at relative position 0.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace headscope {

class HookedTransformer;

// A·B = U·diag(S)·Vh with r = min(m, k, n) singular triplets, S descending.
struct FactoredSvd {
    at::Tensor U;   // [..., m, r]  orthonormal columns
    at::Tensor S;   // [..., r]
    at::Tensor Vh;  // [..., r, n]  orthonormal rows
};

class FactoredMatrix {
public:
    // A [..., m, k], B [..., k, n]; the leading (batch) dimensions broadcast against each other.
    // Throws UsageError for undefined factors, fewer than 2 dimensions, mismatched inner
    // dimensions, incompatible batch shapes or mixed dtypes.
    FactoredMatrix(at::Tensor A, at::Tensor B);

    const at::Tensor& A() const { return A_; }
    const at::Tensor& B() const { return B_; }
    int64_t rows() const;   // m
    int64_t cols() const;   // n
    int64_t inner() const;  // k (the rank is at most this)
    std::vector<int64_t> batch_shape() const;

    // (A·B)ᵀ = Bᵀ·Aᵀ.
    FactoredMatrix transpose() const;
    // (A·B)·M = A·(B·M); M [..., n, p].
    FactoredMatrix matmul(const at::Tensor& M) const;
    // M·(A·B) = (M·A)·B; M [..., p, m].
    FactoredMatrix rmatmul(const at::Tensor& M) const;
    // (A·B)·(C·D), still factored: A·(B·C·D) or (A·B·C)·D, whichever has the smaller inner
    // dimension.
    FactoredMatrix matmul(const FactoredMatrix& other) const;
    // The matrix at `index` of the first batch dimension.
    FactoredMatrix operator[](int64_t index) const;
    FactoredMatrix to(at::ScalarType dtype) const;

    // Through the thin QR factorisations A = Q_A·R_A and Bᵀ = Q_B·R_B: A·B = Q_A·(R_A·R_Bᵀ)·Q_Bᵀ,
    // so only the small middle matrix is decomposed.
    FactoredSvd svd() const;
    at::Tensor singular_values() const;  // [..., r], descending
    // ‖A·B‖_F = sqrt(trace((AᵀA)·(BBᵀ))), from k×k matrices. [...]
    at::Tensor frobenius_norm() const;
    // Eigenvalues of a square A·B (complex). With k <= m they are the k eigenvalues of B·A,
    // which are A·B's nonzero eigenvalues (A·B's other m−k eigenvalues are 0); otherwise those
    // of the dense matrix. UsageError when A·B is not square.
    at::Tensor eigenvalues() const;
    // Eigenvalues of the square L·(A·B)·R (L [p, m], R [n, p]) without forming it: those of the
    // k×k matrix B·(R·L)·A. Pass `right_left` = R·L [..., n, m], computed once when many
    // circuits share L and R (e.g. W_U·W_E for the copying score of W_E·OV·W_U).
    at::Tensor sandwiched_eigenvalues(const at::Tensor& right_left) const;

    // The product itself. For tests and small matrices only: it is what this class avoids.
    at::Tensor dense() const;

private:
    at::Tensor A_, B_;
};

// ‖X_a·Y_b‖_F for every matrix X_a of `left` (one batch dimension, size a) and Y_b of `right`
// (size b): returns [a, b]. Neither the products nor X, Y are formed:
// ‖A₁B₁A₂B₂‖_F = ‖(R₁·B₁)·(A₂·R₂ᵀ)‖_F with R₁ from the QR of A₁ and R₂ from the QR of B₂ᵀ, all
// pairs in one matrix product (in chunks of bounded memory).
at::Tensor pairwise_product_norms(const FactoredMatrix& left, const FactoredMatrix& right);

// How the circuits treat the normalisation in front of the attention block.
struct CircuitOptions {
    // Scale the d_model (input) side of W_Q, W_K, W_V by ln1's weight, as TransformerLens'
    // fold_ln does: the circuit the head applies to the normalised residual direction (biases
    // and LayerNorm's centring are not folded). Ignored for models without ln1 weights.
    bool fold_norm_weights = false;
};

// Per query head of `layer`: [n_heads] matrices d_model×d_model of rank d_head, in the model's
// dtype and device. GQA-aware: query head h uses kv head h / (n_heads / n_kv_heads).
// Throws UsageError for a layer out of range.
FactoredMatrix qk_circuit(const HookedTransformer& model, int layer, CircuitOptions options = {});  // W_Q[h]·W_K[kv(h)]ᵀ
FactoredMatrix ov_circuit(const HookedTransformer& model, int layer, CircuitOptions options = {});  // W_V[kv(h)]·W_O[h]

}  // namespace headscope
