// safetensors checkpoints: one file, or a sharded directory indexed by
// model.safetensors.index.json. The JSON header's size, every tensor's dtype, shape and byte
// range are validated against the file size before any read. f32, f16 and bf16 are read into
// float32. Torch-free.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "headscope/tensor_source.hpp"

namespace headscope {

class SafetensorsFile : public TensorSource {
public:
    explicit SafetensorsFile(std::string path);  // throws FormatError / IoError
    ~SafetensorsFile() override;
    const std::string& path() const override;
    const std::vector<TensorInfo>& tensors() const override;
    void read_f32(const TensorInfo& info, float* dst) const override;
    // The header's "__metadata__" string map (may be empty).
    const std::vector<std::pair<std::string, std::string>>& metadata() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Every *.safetensors weight of a Hugging Face model directory as one source: either
// model.safetensors, or the shards named by model.safetensors.index.json (shard names that leave
// the directory — "../", absolute paths — are refused). A directory holding only pickle files
// (pytorch_model.bin, *.pt, *.pth) is refused with a message saying how to convert; they are
// never unpickled. TensorInfo.offset is within the tensor's own shard.
class SafetensorsCheckpoint : public TensorSource {
public:
    explicit SafetensorsCheckpoint(std::string directory);
    ~SafetensorsCheckpoint() override;
    const std::string& path() const override;
    const std::vector<TensorInfo>& tensors() const override;
    void read_f32(const TensorInfo& info, float* dst) const override;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Writes a single-file safetensors (f32 tensors) atomically — used by `headscope train` and
// by tests. Names must be unique; data holds numel floats per tensor.
struct SafetensorsTensorView {
    std::string name;
    std::vector<int64_t> shape;
    const float* data = nullptr;
};
void write_safetensors(const std::string& path, const std::vector<SafetensorsTensorView>& tensors,
                       const std::vector<std::pair<std::string, std::string>>& metadata = {});

}  // namespace headscope
