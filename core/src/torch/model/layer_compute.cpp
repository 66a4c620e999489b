#include <torch/torch.h>

#include <fstream>
#include <vector>

#include "model/layer_compute.hpp"

namespace headscope {

namespace {

at::Tensor to_types(const at::Tensor& t, c10::Device device, at::ScalarType dtype) {
    if (!t.defined()) return t;
    return t.to(device).to(dtype);  // device move in the stored dtype, cast on the device
}

// GEMM matrices [in, out] are used in the layout they arrive in when it is dense: the transpose
// of a contiguous [out, in] (what Hugging Face and GGUF store, nn.Linear's weight; the GEMM reads
// it as transposed, BLAS "NT") or contiguous [in, out] (GPT-2's Conv1D). So a stored matrix in the
// compute dtype is used in place and a streamed layer costs no copy. Resident weights keep the
// same layouts (convert_weights), so both policies run the same GEMMs and give the same bits.
at::Tensor gemm_matrix(const at::Tensor& t, c10::Device device, at::ScalarType dtype) {
    if (!t.defined()) return t;
    at::Tensor m = to_types(t, device, dtype);
    return m.is_contiguous() || m.t().is_contiguous() ? m : m.contiguous();
}

at::Tensor dense(const at::Tensor& t, c10::Device device, at::ScalarType dtype) {
    return t.defined() ? to_types(t, device, dtype).contiguous() : t;
}

// A per-head bias [heads, d_head] as one [heads * d_head] vector (undefined stays undefined).
at::Tensor flat_bias(const at::Tensor& b, c10::Device device, at::ScalarType dtype) {
    return b.defined() ? dense(b.reshape({-1}), device, dtype) : b;
}

}  // namespace

LayerCompute pack_layer(const LayerWeights& L, const ModelConfig& c, const ComputeTypes& ty) {
    const int64_t d = c.d_model;
    auto flat_in = [&](const at::Tensor& W) {  // [heads, d_model, d_head] -> [d_model, heads*d_head]
        return W.permute({1, 0, 2}).reshape({d, -1});
    };
    LayerCompute out;
    out.ln1_w = dense(L.ln1_w, ty.device, ty.dtype);
    out.ln1_b = dense(L.ln1_b, ty.device, ty.dtype);
    out.W_q = gemm_matrix(flat_in(L.W_Q), ty.device, ty.gemm_dtype);
    out.W_k = gemm_matrix(flat_in(L.W_K), ty.device, ty.gemm_dtype);
    out.W_v = gemm_matrix(flat_in(L.W_V), ty.device, ty.gemm_dtype);
    out.b_q = flat_bias(L.b_Q, ty.device, ty.gemm_dtype);
    out.b_k = flat_bias(L.b_K, ty.device, ty.gemm_dtype);
    out.b_v = flat_bias(L.b_V, ty.device, ty.gemm_dtype);
    out.W_O = L.W_O;  // converted by the forward only when hook_result is wanted
    out.W_o = gemm_matrix(L.W_O.reshape({-1, d}), ty.device, ty.gemm_dtype);
    out.b_O = dense(L.b_O, ty.device, ty.gemm_dtype);
    out.q_norm_w = dense(L.q_norm_w, ty.device, ty.dtype);
    out.k_norm_w = dense(L.k_norm_w, ty.device, ty.dtype);
    out.ln1_post_w = dense(L.ln1_post_w, ty.device, ty.dtype);
    if (!c.attn_only) {
        out.ln2_w = dense(L.ln2_w, ty.device, ty.dtype);
        out.ln2_b = dense(L.ln2_b, ty.device, ty.dtype);
        if (L.W_router.defined()) {  // mixture of experts
            for (auto [to, from] : {std::pair{&LayerCompute::W_router, &LayerWeights::W_router},
                                    {&LayerCompute::W_expert_gate, &LayerWeights::W_expert_gate},
                                    {&LayerCompute::W_expert_in, &LayerWeights::W_expert_in},
                                    {&LayerCompute::W_expert_out, &LayerWeights::W_expert_out},
                                    {&LayerCompute::W_shared_gate, &LayerWeights::W_shared_gate},
                                    {&LayerCompute::W_shared_in, &LayerWeights::W_shared_in},
                                    {&LayerCompute::W_shared_out, &LayerWeights::W_shared_out},
                                    {&LayerCompute::w_shared_router, &LayerWeights::w_shared_router}})
                out.*to = dense(L.*from, ty.device, ty.gemm_dtype);
        } else {
            if (c.gated_mlp) {
                out.W_gate = gemm_matrix(L.W_gate, ty.device, ty.gemm_dtype);
                out.b_gate = dense(L.b_gate, ty.device, ty.gemm_dtype);
            }
            out.W_up = gemm_matrix(L.W_in, ty.device, ty.gemm_dtype);
            out.b_up = dense(L.b_in, ty.device, ty.gemm_dtype);
            out.W_out = gemm_matrix(L.W_out, ty.device, ty.gemm_dtype);
        }
        out.b_out = dense(L.b_out, ty.device, ty.gemm_dtype);
        out.ln2_post_w = dense(L.ln2_post_w, ty.device, ty.dtype);
    }
    return out;
}

LayerWeights convert_layer(const LayerWeights& L, const ComputeTypes& ty) {
    LayerWeights o;
    for (const LayerTensor& t : layer_tensors()) o.*t.member = to_types(L.*t.member, ty.device, ty.dtype);
    return o;
}

at::Tensor gemm(const at::Tensor& x, const at::Tensor& W, const at::Tensor& b) {
    if (x.scalar_type() == W.scalar_type()) return b.defined() ? torch::addmm(b, x, W) : torch::mm(x, W);
    const at::Tensor xw = x.to(W.scalar_type());
    return (b.defined() ? torch::addmm(b, xw, W) : torch::mm(xw, W)).to(x.scalar_type());
}

namespace {
bool cpu_flag(const std::string& flag) {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("flags", 0) != 0) continue;
        return (line + " ").find(" " + flag + " ") != std::string::npos;
    }
    return false;
}
}  // namespace

bool fast_half_gemm(at::ScalarType dtype, c10::Device device, std::string* why) {
    auto say = [&](bool fast, const std::string& text) {
        if (why) *why = text;
        return fast;
    };
    const std::string name = c10::toString(dtype);
    if (dtype != at::kBFloat16 && dtype != at::kHalf) return say(true, std::string(name) + " GEMM");
    if (device.is_cuda()) return say(true, std::string(name) + " GEMM on " + device.str());
    if (dtype == at::kBFloat16) {
        static const bool amx = cpu_flag("amx_bf16"), avx = cpu_flag("avx512_bf16");
        if (at::hasMKLDNN() && (amx || avx))
            return say(true, std::string("bfloat16 GEMM (oneDNN, ") + (amx ? "amx_bf16" : "avx512_bf16") + ")");
        return say(false, std::string("float32 GEMM on bfloat16 weights upcast per layer (") +
                              (at::hasMKLDNN() ? "this CPU has no avx512_bf16/amx_bf16" : "LibTorch without oneDNN") +
                              ")");
    }
    return say(false, "float32 GEMM on float16 weights upcast per layer (no fast float16 GEMM on CPU)");
}

}  // namespace headscope
