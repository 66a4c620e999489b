#include "loaders/tensor_reader.hpp"

#include <fmt/format.h>

#include "headscope/error.hpp"
#include "headscope/formatting.hpp"

namespace headscope {

namespace {
const TensorInfo& checked(const TensorSource& source, const TensorInfo* info, const std::string& name,
                          const std::vector<int64_t>& shape) {
    if (!info)
        throw FormatError(source.path(), fmt::format("missing tensor '{}' (expected shape {}; the file holds {} tensors)",
                                                     name, shape_string(shape), source.tensors().size()));
    if (info->shape != shape)
        throw FormatError(source.path(), fmt::format("tensor '{}' has shape {}, expected {}", info->name,
                                                     shape_string(info->shape), shape_string(shape)));
    return *info;
}

torch::ScalarType torch_type(StorageType t) {
    switch (t) {
        case StorageType::f32: return torch::kFloat32;
        case StorageType::f16: return torch::kFloat16;
        case StorageType::bf16: return torch::kBFloat16;
        default: break;
    }
    throw UsageError(std::string("no LibTorch dtype for stored type ") + to_string(t));
}

torch::Tensor read_f32_copy(const TensorSource& source, const TensorInfo& info) {
    torch::Tensor t = torch::empty(info.shape, torch::kFloat32);
    source.read_f32(info, t.data_ptr<float>());
    return t;
}

thread_local bool t_shapes_only = false;

torch::Tensor shape_only(const TensorInfo& info) {
    return torch::empty(info.shape, torch::TensorOptions().dtype(torch::kFloat32).device(torch::kMeta));
}

torch::Tensor read_info(const TensorSource& source, const TensorInfo& info) {
    if (is_quantized(info.type)) return t_shapes_only ? shape_only(info) : read_f32_copy(source, info);
    MappedBytes bytes = source.mapped(info);
    if (!bytes.data) return t_shapes_only ? shape_only(info) : read_f32_copy(source, info);
    // from_blob over the map: no copy; the deleter holds the map's owner.
    std::shared_ptr<const void> owner = std::move(bytes.owner);
    return torch::from_blob(const_cast<void*>(bytes.data), info.shape, [owner](void*) {},
                            torch::TensorOptions().dtype(torch_type(info.type)));
}
}  // namespace

ShapesOnly::ShapesOnly() : previous_(t_shapes_only) { t_shapes_only = true; }
ShapesOnly::~ShapesOnly() { t_shapes_only = previous_; }
bool reading_shapes_only() { return t_shapes_only; }

bool is_quantized(StorageType t) { return t == StorageType::q8_0 || t == StorageType::q4_0; }

torch::Tensor read_tensor(const TensorSource& source, const std::string& name, const std::vector<int64_t>& shape) {
    return read_info(source, checked(source, source.find(name), name, shape));
}

torch::Tensor read_optional_tensor(const TensorSource& source, const std::string& name,
                                   const std::vector<int64_t>& shape) {
    const TensorInfo* info = source.find(name);
    return info ? read_info(source, checked(source, info, name, shape)) : torch::Tensor();
}

void LayerTensorLoader::load(int layer, at::Tensor LayerWeights::*field, const std::string& name,
                             const std::vector<int64_t>& stored_shape, const Layout& to_canonical, bool optional) {
    const TensorInfo* found = source_->find(name);
    if (!found && optional) return;
    const TensorInfo& info = checked(*source_, found, name, stored_shape);
    LayerWeights& L = weights_.layers.at(static_cast<size_t>(layer));
    if (!is_quantized(info.type)) {
        L.*field = to_canonical(read_info(*source_, info));
        return;
    }
    DeferredWeight d;
    d.layer = layer;
    d.field = field;
    d.stored_bytes = static_cast<int64_t>(info.nbytes);
    // The canonical shape, from the layout applied to a shape-only tensor.
    d.shape = to_canonical(torch::empty(stored_shape, torch::TensorOptions().device(torch::kMeta))).sizes().vec();
    d.produce = [source = source_, info, to_canonical] {
        return to_canonical(read_f32_copy(*source, info));  // a view where the layout allows
    };
    weights_.deferred.push_back(std::move(d));
}

void LayerTensorLoader::load_stacked(int layer, at::Tensor LayerWeights::*field, const std::vector<std::string>& names,
                                     const std::vector<int64_t>& stored_shape, const Layout& to_canonical) {
    std::vector<TensorInfo> infos;
    DeferredWeight d;
    d.layer = layer;
    d.field = field;
    d.quantized = false;
    for (const std::string& name : names) {
        infos.push_back(checked(*source_, source_->find(name), name, stored_shape));
        d.stored_bytes += static_cast<int64_t>(infos.back().nbytes);
        d.quantized = d.quantized || is_quantized(infos.back().type);
    }
    d.shape = to_canonical(torch::empty(stored_shape, torch::TensorOptions().device(torch::kMeta))).sizes().vec();
    d.shape.insert(d.shape.begin(), static_cast<int64_t>(names.size()));
    d.produce = [source = source_, infos = std::move(infos), to_canonical] {
        std::vector<torch::Tensor> parts;
        for (const TensorInfo& info : infos) parts.push_back(to_canonical(read_info(*source, info)));
        return torch::stack(parts);
    };
    weights_.deferred.push_back(std::move(d));
}

}  // namespace headscope
