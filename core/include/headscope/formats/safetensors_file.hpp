// safetensors checkpoints: one file, or a sharded directory indexed by
// model.safetensors.index.json. The JSON header's size, every tensor's dtype, shape and byte
// range are validated against the file size before any read. The file is memory-mapped: f32,
// f16 and bf16 tensors are served in place (mapped()) or converted to float32 (read_f32).
// Torch-free.
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
    MappedBytes mapped(const TensorInfo& info) const override;  // in place in the file's map
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
    MappedBytes mapped(const TensorInfo& info) const override;  // in place in the file's map

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// The one rule for PyTorch pickle checkpoints, used by every reader and the loader: a file named
// pytorch_model*.bin, *.pt, *.pth or *.ckpt, or whose first bytes are a ZIP archive (torch.save)
// or a pickle stream (protocol 2-5). Such files are never unpickled.
bool is_pickle_checkpoint(const std::string& path, const unsigned char* first_bytes, size_t n);
// Throws FormatError naming the file, why pickle is refused and how to convert to safetensors.
[[noreturn]] void refuse_pickle_checkpoint(const std::string& path);

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
