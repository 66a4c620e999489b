#include "loaders/tensor_reader.hpp"

#include <fmt/format.h>

#include "headscope/error.hpp"
#include "headscope/formatting.hpp"

namespace headscope {

namespace {
torch::Tensor read_info(const TensorSource& source, const TensorInfo& info, const std::vector<int64_t>& shape) {
    if (info.shape != shape)
        throw FormatError(source.path(), fmt::format("tensor '{}' has shape {}, expected {}", info.name,
                                                     shape_string(info.shape), shape_string(shape)));
    torch::Tensor t = torch::empty(shape, torch::kFloat32);
    source.read_f32(info, t.data_ptr<float>());
    return t;
}
}  // namespace

torch::Tensor read_tensor(const TensorSource& source, const std::string& name, const std::vector<int64_t>& shape) {
    const TensorInfo* info = source.find(name);
    if (!info)
        throw FormatError(source.path(), fmt::format("missing tensor '{}' (expected shape {}; the file holds {} tensors)",
                                                     name, shape_string(shape), source.tensors().size()));
    return read_info(source, *info, shape);
}

torch::Tensor read_optional_tensor(const TensorSource& source, const std::string& name,
                                   const std::vector<int64_t>& shape) {
    const TensorInfo* info = source.find(name);
    return info ? read_info(source, *info, shape) : torch::Tensor();
}

}  // namespace headscope
