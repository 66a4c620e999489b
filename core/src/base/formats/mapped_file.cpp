#include "formats/mapped_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "headscope/error.hpp"

namespace headscope::formats {

namespace {
[[noreturn]] void io_fail(const std::string& path, const std::string& what, int err) {
    throw IoError(path + ": " + what + ": " + std::strerror(err));
}

// Closes the descriptor on every path out of the constructor; the mapping outlives it.
struct FdGuard {
    int fd;
    ~FdGuard() {
        if (fd >= 0) ::close(fd);
    }
};
}  // namespace

MappedFile::MappedFile(const std::string& path) {
    FdGuard guard{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
    if (guard.fd < 0) io_fail(path, "cannot open file", errno);
    struct stat st {};
    if (::fstat(guard.fd, &st) != 0) io_fail(path, "cannot stat file", errno);
    if (!S_ISREG(st.st_mode)) throw IoError(path + ": not a regular file");
    size_ = static_cast<uint64_t>(st.st_size);
    if (size_ == 0) return;
    void* p = ::mmap(nullptr, static_cast<size_t>(size_), PROT_READ | PROT_WRITE, MAP_PRIVATE, guard.fd, 0);
    if (p == MAP_FAILED) io_fail(path, "cannot map file into memory", errno);
    data_ = static_cast<uint8_t*>(p);
}

MappedFile::~MappedFile() {
    if (data_) ::munmap(data_, static_cast<size_t>(size_));
}

}  // namespace headscope::formats
