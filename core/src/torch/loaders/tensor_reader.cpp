#include "loaders/tensor_reader.hpp"

#include <fmt/format.h>

#include "headscope/error.hpp"

namespace headscope {

namespace {
std::string shape_str(const std::vector<int64_t>& s) {
    std::string out = "[";
    for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
    return out + "]";
}

torch::Tensor read_info(const TensorSource& source, const TensorInfo& info, const std::vector<int64_t>& shape) {
    if (info.shape != shape)
        throw FormatError(source.path(), fmt::format("tensor '{}' has shape {}, expected {}", info.name,
                                                     shape_str(info.shape), shape_str(shape)));
    torch::Tensor t = torch::empty(shape, torch::kFloat32);
    source.read_f32(info, t.data_ptr<float>());
    return t;
}
}  // namespace

torch::Tensor read_tensor(const TensorSource& source, const std::string& name, const std::vector<int64_t>& shape) {
    const TensorInfo* info = source.find(name);
    if (!info)
        throw FormatError(source.path(), fmt::format("missing tensor '{}' (expected shape {}; the file holds {} tensors)",
                                                     name, shape_str(shape), source.tensors().size()));
    return read_info(source, *info, shape);
}

torch::Tensor read_optional_tensor(const TensorSource& source, const std::string& name,
                                   const std::vector<int64_t>& shape) {
    const TensorInfo* info = source.find(name);
    return info ? read_info(source, *info, shape) : torch::Tensor();
}

}  // namespace headscope
