// One named tensor of a TensorSource as a LibTorch tensor, checking its shape. Tensors stored
// as f32/f16/bf16 are wrapped in place over the file's memory map, in their stored dtype (the
// map stays alive while any such tensor does); quantised ones (q8_0/q4_0) cannot be viewed and
// are read by DeferredWeight producers, one layer at a time. Internal.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "headscope/model_weights.hpp"
#include "headscope/tensor_source.hpp"

namespace headscope {

bool is_quantized(StorageType type);

// While alive on this thread, tensors that would have to be read into memory (quantised ones,
// sources without a map) come back as shape-only (meta) tensors: describing a model reads no
// weight. Mapped tensors are views either way (mapping reads nothing).
class ShapesOnly {
public:
    ShapesOnly();
    ~ShapesOnly();
    ShapesOnly(const ShapesOnly&) = delete;
    ShapesOnly& operator=(const ShapesOnly&) = delete;

private:
    bool previous_;
};
// True while a ShapesOnly is alive on this thread (layouts that would compute from a weight's
// values return a shape-only tensor instead).
bool reading_shapes_only();

// The source's tensor `name` with its shape checked (FormatError naming the file, the tensor and
// the expected shape when missing or shaped otherwise). In place when mapped and unquantised;
// otherwise read into float32 (quantised, or a source without a map).
torch::Tensor read_tensor(const TensorSource& source, const std::string& name, const std::vector<int64_t>& shape);
// Undefined tensor when absent; FormatError when present with another shape.
torch::Tensor read_optional_tensor(const TensorSource& source, const std::string& name,
                                   const std::vector<int64_t>& shape);

// A layer weight of a model being loaded: assigned in place (a view of the stored tensor through
// `to_canonical`) when the stored type allows, else recorded as a DeferredWeight that reads,
// dequantises and lays it out when its layer runs. `source` is kept alive by the producer.
class LayerTensorLoader {
public:
    LayerTensorLoader(std::shared_ptr<const TensorSource> source, ModelWeights& weights)
        : source_(std::move(source)), weights_(weights) {}
    using Layout = std::function<torch::Tensor(const torch::Tensor& stored)>;
    // Missing tensors throw FormatError unless `optional`.
    void load(int layer, at::Tensor LayerWeights::*field, const std::string& name,
              const std::vector<int64_t>& stored_shape, const Layout& to_canonical, bool optional = false);
    // Tensors stored one per expert (`names[e]`, each `stored_shape`) as one [E, ...] weight: a
    // DeferredWeight that stacks to_canonical(expert e) when its layer runs. Every name is checked
    // now (FormatError naming the missing or mis-shaped tensor).
    void load_stacked(int layer, at::Tensor LayerWeights::*field, const std::vector<std::string>& names,
                      const std::vector<int64_t>& stored_shape, const Layout& to_canonical);
    const TensorSource& source() const { return *source_; }

private:
    std::shared_ptr<const TensorSource> source_;
    ModelWeights& weights_;
};

}  // namespace headscope
