// A memory map of a whole file (POSIX mmap, private copy-on-write), released on destruction.
// Readers take bounds-checked views of it through BinaryReader, and the loaders wrap tensors
// in place over it (shared ownership keeps it alive). The file is never written: a write into
// the map (e.g. editing a weight in place) makes a private copy of that page only.
// Note: like any mmap, a file truncated by another process while mapped can raise SIGBUS;
// checkpoints are treated as immutable while open.
#pragma once

#include <cstdint>
#include <string>

namespace headscope::formats {

class MappedFile {
public:
    // Throws IoError when the file cannot be opened, is not a regular file or cannot be mapped.
    explicit MappedFile(const std::string& path);
    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    const uint8_t* data() const { return data_; }  // nullptr for an empty file
    uint8_t* mutable_data() const { return data_; }  // copy-on-write pages, never the file
    uint64_t size() const { return size_; }

private:
    uint8_t* data_ = nullptr;
    uint64_t size_ = 0;
};

}  // namespace headscope::formats
