// A regular file opened read-only, read with pread at checked offsets. Thread-safe for reads
// (pread has no shared file position). Closes the descriptor when destroyed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace headscope::st {

class ReadOnlyFile {
public:
    // Throws IoError when the file cannot be opened, FormatError when it is not a regular file.
    explicit ReadOnlyFile(std::string path);
    ~ReadOnlyFile();
    ReadOnlyFile(const ReadOnlyFile&) = delete;
    ReadOnlyFile& operator=(const ReadOnlyFile&) = delete;

    const std::string& path() const { return path_; }
    uint64_t size() const { return size_; }  // size when opened

    // Reads exactly n bytes at offset. The range must lie within size() (else UsageError — a
    // caller bug); a file that shrank since it was opened gives FormatError naming `what`.
    void read_exact(uint64_t offset, void* dst, size_t n, const std::string& what) const;

private:
    std::string path_;
    int fd_ = -1;
    uint64_t size_ = 0;
};

}  // namespace headscope::st
