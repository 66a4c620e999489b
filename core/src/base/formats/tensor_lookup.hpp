// read_f32 receives a TensorInfo from the caller; readers only trust their own table. This
// resolves the caller's info to the reader's entry (same object, or same name with identical
// shape, type, offset and size) and throws UsageError otherwise, so a stale or hand-made
// TensorInfo can never steer a read outside the file.
#pragma once

#include <string>
#include <vector>

#include "headscope/formatting.hpp"
#include "headscope/tensor_source.hpp"

namespace headscope::formats {

const TensorInfo& resolve_tensor(const std::vector<TensorInfo>& own, const TensorInfo& info,
                                 const std::string& path);

using headscope::shape_string;  // "[512, 64]" (headscope/formatting.hpp)

}  // namespace headscope::formats
