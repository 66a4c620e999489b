// A file that holds named tensors (GGUF, llama2.c, safetensors). Readers describe each tensor,
// point at its stored bytes in a read-only memory map of the file, and can copy it out as
// float32; wrapping the mapped bytes as LibTorch tensors happens in one place (the loaders),
// so readers stay torch-free and testable alone.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace headscope {

// Storage type of a tensor inside a file.
enum class StorageType { f32, f16, bf16, q8_0, q4_0, q4_K, q6_K };
const char* to_string(StorageType t);

struct TensorInfo {
    std::string name;
    std::vector<int64_t> shape;  // row-major, outermost dimension first (as numpy/torch)
    StorageType type = StorageType::f32;
    uint64_t offset = 0;  // absolute byte offset of the data in the file
    uint64_t nbytes = 0;  // bytes of data in the file
    int64_t numel() const {
        int64_t n = 1;
        for (int64_t d : shape) n *= d;
        return n;
    }
};

// A tensor's stored bytes inside a memory-mapped file: valid while `owner` (or the source) lives.
struct MappedBytes {
    const void* data = nullptr;  // nullptr when the source cannot point at the bytes
    std::shared_ptr<const void> owner;
};

class TensorSource {
public:
    virtual ~TensorSource() = default;
    // The file (or directory) this source reads, for error messages.
    virtual const std::string& path() const = 0;
    virtual const std::vector<TensorInfo>& tensors() const = 0;
    // Copies (dequantising/converting) the tensor into dst, which holds info.numel() floats.
    virtual void read_f32(const TensorInfo& info, float* dst) const = 0;
    // The tensor's bytes as stored (little-endian, info.type), in place in the file's mapping;
    // {} when not mapped (the default). No copy is made.
    virtual MappedBytes mapped(const TensorInfo& info) const { (void)info; return {}; }

    // nullptr when absent.
    const TensorInfo* find(std::string_view name) const {
        for (const auto& t : tensors())
            if (t.name == name) return &t;
        return nullptr;
    }
};

}  // namespace headscope
