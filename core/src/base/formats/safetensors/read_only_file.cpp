#include "formats/safetensors/read_only_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "headscope/error.hpp"

namespace headscope::st {

ReadOnlyFile::ReadOnlyFile(std::string path) : path_(std::move(path)) {
    do {
        fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    } while (fd_ < 0 && errno == EINTR);
    if (fd_ < 0) throw IoError(fmt::format("{}: cannot open: {}", path_, std::strerror(errno)));
    struct stat st {};
    if (::fstat(fd_, &st) != 0) {
        int err = errno;
        ::close(fd_);
        throw IoError(fmt::format("{}: cannot stat: {}", path_, std::strerror(err)));
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd_);
        throw FormatError(path_, "not a regular file");
    }
    size_ = static_cast<uint64_t>(st.st_size);
}

ReadOnlyFile::~ReadOnlyFile() {
    if (fd_ >= 0) ::close(fd_);
}

void ReadOnlyFile::read_exact(uint64_t offset, void* dst, size_t n, const std::string& what) const {
    if (offset > size_ || n > size_ - offset)
        throw UsageError(fmt::format("{}: internal read of {} at [{}, +{}) is outside the file ({} bytes)",
                                     path_, what, offset, n, size_));
    auto* out = static_cast<unsigned char*>(dst);
    size_t done = 0;
    while (done < n) {
        // Linux reads at most ~2 GiB per call; keep each request well below that.
        size_t want = std::min<size_t>(n - done, size_t{1} << 30);
        ssize_t got = ::pread(fd_, out + done, want, static_cast<off_t>(offset + done));
        if (got < 0) {
            if (errno == EINTR) continue;
            throw IoError(fmt::format("{}: reading {} at byte {} failed: {}", path_, what,
                                      offset + done, std::strerror(errno)));
        }
        if (got == 0)
            throw FormatError(path_, fmt::format("file ends at byte {} while reading {} (expected {} "
                                                 "bytes from byte {}); was it truncated or replaced "
                                                 "after it was opened?",
                                                 offset + done, what, n, offset));
        done += static_cast<size_t>(got);
    }
}

}  // namespace headscope::st
