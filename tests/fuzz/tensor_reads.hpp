// Reads every small tensor of a TensorSource (dequantising GGUF blocks, converting f16/bf16),
// so a harness exercises the data path as well as the header. Large tensors are skipped: the
// fuzzer's files are small, and a valid header may still describe big tensors of zeros.
#pragma once

#include <vector>

#include "headscope/tensor_source.hpp"

namespace headscope::fuzz {

inline void read_small_tensors(const TensorSource& source) {
    constexpr int64_t kMaxElements = 1 << 14;
    std::vector<float> buffer;
    for (const TensorInfo& info : source.tensors()) {
        const int64_t n = info.numel();
        if (n < 0 || n > kMaxElements) continue;
        buffer.assign(static_cast<size_t>(n), 0.f);
        source.read_f32(info, buffer.data());
    }
}

}  // namespace headscope::fuzz
