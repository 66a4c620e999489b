// One safetensors file: memory-mapped, its header validated against the file size, its float
// tensors described as TensorInfo, served in place (mapped) or converted to float32 on demand.
// Tensors of dtypes headscope does not convert (BOOL, I64, ...; e.g. attention-mask buffers in
// some checkpoints) are validated like the others but kept out of tensors(); reading one
// explains why it cannot. Shared by SafetensorsFile and SafetensorsCheckpoint.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "formats/mapped_file.hpp"
#include "headscope/tensor_source.hpp"

namespace headscope::st {

class Reader {
public:
    explicit Reader(std::string path);  // throws FormatError / IoError

    const std::string& path() const { return path_; }
    const std::vector<TensorInfo>& tensors() const { return tensors_; }
    const std::vector<std::pair<std::string, std::string>>& metadata() const { return metadata_; }

    const TensorInfo* find(const std::string& name) const;
    // The dtype name of a tensor this file holds but headscope cannot convert; nullptr if none.
    const char* unsupported_dtype(const std::string& name) const;

    // `info` must describe one of tensors() (same name, shape and type); dst holds numel floats.
    void read_f32(const TensorInfo& info, float* dst) const;
    // The stored bytes of that tensor, in place in the map.
    MappedBytes mapped(const TensorInfo& info) const;

private:
    const TensorInfo& own(const TensorInfo& info) const;  // the table's entry, or a clear error

    std::string path_;
    std::shared_ptr<formats::MappedFile> map_;
    std::vector<TensorInfo> tensors_;
    std::unordered_map<std::string, size_t> index_;
    std::unordered_map<std::string, const char*> unsupported_;
    std::vector<std::pair<std::string, std::string>> metadata_;
};

}  // namespace headscope::st
