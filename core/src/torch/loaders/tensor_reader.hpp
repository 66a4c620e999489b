// Reading one named tensor from a TensorSource into LibTorch, checking its shape. Internal.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "headscope/tensor_source.hpp"

namespace headscope {

// Throws FormatError naming the file, the tensor and the expected shape when the tensor is
// missing or shaped otherwise.
torch::Tensor read_tensor(const TensorSource& source, const std::string& name, const std::vector<int64_t>& shape);
// Undefined tensor when absent; FormatError when present with another shape.
torch::Tensor read_optional_tensor(const TensorSource& source, const std::string& name,
                                   const std::vector<int64_t>& shape);

}  // namespace headscope
