// The peak-memory estimate made before a model is loaded, and the refusal when it cannot fit.
#include <torch/torch.h>

#include <algorithm>

#include <fmt/format.h>

#include "headscope/error.hpp"
#include "headscope/model_loader.hpp"
#include "headscope/process_memory.hpp"

namespace headscope {

namespace {
constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
std::string gib(int64_t bytes) { return fmt::format("{:.2f} GiB", static_cast<double>(bytes) / kGiB); }
}  // namespace

std::string MemoryEstimate::summary() const {
    return fmt::format("{} (weights as stored {} + converted {} + activations {})", gib(total()), gib(weights),
                       gib(converted), gib(activations));
}

MemoryEstimate estimate_memory(const ModelDescription& m, const ComputeOptions& compute, int64_t tokens) {
    const ModelConfig& c = m.config;
    const int64_t elem = static_cast<int64_t>(c10::elementSize(compute.dtype));
    const int64_t T = std::max<int64_t>(1, std::min<int64_t>(tokens, c.n_ctx));
    MemoryEstimate e;
    e.weights = m.stored_bytes;
    const bool resident = HookedTransformer::choose_residency(compute.residency, m.parameters, m.quantized,
                                                              compute.dtype) == WeightResidency::resident;
    // GEMM weights may be float32 even for half compute (the upcast path); count 4 bytes then.
    const int64_t gemm = std::max<int64_t>(elem, 4);
    if (resident) {
        e.converted = 2 * m.parameters * elem;  // canonical copy + packed matrices
    } else {
        // One layer packed (plus its canonical conversion for analyses) and a block of W_U.
        e.converted = 2 * m.largest_layer_parameters * gemm + int64_t{16384} * c.d_model * gemm;
    }
    // Live activations of one layer, the scores/pattern of one layer and the logits.
    const int64_t qkv = static_cast<int64_t>(c.n_heads + 2 * c.n_kv_heads) * c.d_head;
    const int64_t per_position = 8 * c.d_model + qkv + 4 * c.d_mlp;
    const int64_t keys = T >= HookedTransformer::kChunkedAttentionFrom ? 64 : T;
    e.activations = T * per_position * elem + 2 * c.n_heads * T * keys * elem + T * c.d_vocab * 4;
    return e;
}

void check_memory_budget(const ModelDescription& m, const LoadOptions& o) {
    if (o.max_memory_gb < 0) return;
    const int64_t limit = o.max_memory_gb > 0 ? static_cast<int64_t>(o.max_memory_gb * kGiB) : available_memory_bytes();
    if (limit < 0) return;  // unknown: nothing to compare against
    const MemoryEstimate e = estimate_memory(m, o.compute, o.planned_tokens);
    if (e.total() <= limit) return;
    throw ResourceError(fmt::format(
        "{}: loading and running this model needs an estimated {} for {} tokens in {}, but {} {}; "
        "nothing was loaded. Use a smaller --dtype, a shorter prompt, or pass --max-memory GB to set the limit",
        m.path, e.summary(), std::max<int64_t>(1, std::min<int64_t>(o.planned_tokens, m.config.n_ctx)),
        c10::toString(o.compute.dtype), gib(limit),
        o.max_memory_gb > 0 ? "is the limit set by --max-memory" : "is available (MemAvailable)"));
}

}  // namespace headscope
