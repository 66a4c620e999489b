// write_safetensors: f32 tensors to one safetensors file, laid out as the reference
// implementation does (tensors sorted by name, packed back to back, header padded with spaces
// to a multiple of 8 bytes), written to a temporary file and renamed into place.
#include "headscope/formats/safetensors_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <limits>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "headscope/error.hpp"

namespace headscope {

namespace {

std::string json_string(const std::string& s, const char* what) {
    try {
        return nlohmann::json(s).dump();
    } catch (const nlohmann::json::exception&) {
        throw UsageError(fmt::format("write_safetensors: {} \"{}\" is not valid UTF-8", what, s));
    }
}

struct Planned {
    const SafetensorsTensorView* view;
    uint64_t numel;
    uint64_t begin;
};

uint64_t checked_numel(const SafetensorsTensorView& t) {
    uint64_t n = 1;
    for (int64_t d : t.shape) {
        if (d < 0)
            throw UsageError(fmt::format("write_safetensors: tensor '{}' has a negative dimension {}",
                                         t.name, d));
        if (d != 0 && n > std::numeric_limits<uint64_t>::max() / 4 / static_cast<uint64_t>(d))
            throw UsageError(fmt::format("write_safetensors: tensor '{}' is too large", t.name));
        n *= static_cast<uint64_t>(d);
    }
    return n;
}

std::string build_header(const std::vector<Planned>& plan,
                         const std::vector<std::pair<std::string, std::string>>& metadata) {
    std::string h = "{";
    bool first = true;
    if (!metadata.empty()) {
        h += "\"__metadata__\":{";
        std::set<std::string> seen;
        for (size_t i = 0; i < metadata.size(); ++i) {
            const auto& [k, v] = metadata[i];
            if (!seen.insert(k).second)
                throw UsageError(fmt::format("write_safetensors: metadata key \"{}\" given twice", k));
            h += (i ? "," : "") + json_string(k, "metadata key") + ":" + json_string(v, "metadata value");
        }
        h += "}";
        first = false;
    }
    for (const auto& p : plan) {
        h += first ? "" : ",";
        first = false;
        h += json_string(p.view->name, "tensor name");
        h += fmt::format(":{{\"dtype\":\"F32\",\"shape\":[{}],\"data_offsets\":[{},{}]}}",
                         fmt::join(p.view->shape, ","), p.begin, p.begin + 4 * p.numel);
    }
    h += "}";
    h.append((8 - h.size() % 8) % 8, ' ');  // the reference aligns the data buffer to 8 bytes
    return h;
}

// An open descriptor on a not-yet-renamed temporary file; removes it unless committed.
class TempFile {
public:
    explicit TempFile(const std::string& target) : target_(target) {
        static std::atomic<unsigned> counter{0};
        for (int attempt = 0; attempt < 100; ++attempt) {
            path_ = fmt::format("{}.tmp-{}-{}", target, ::getpid(), counter++);
            fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
            if (fd_ >= 0 || errno != EEXIST) break;
        }
        if (fd_ < 0)
            throw IoError(fmt::format("{}: cannot create temporary file {}: {}", target, path_,
                                      std::strerror(errno)));
    }
    ~TempFile() {
        if (fd_ >= 0) ::close(fd_);
        if (!committed_) ::unlink(path_.c_str());
    }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;

    void write(const void* data, size_t n) {
        const auto* p = static_cast<const char*>(data);
        while (n > 0) {
            ssize_t w = ::write(fd_, p, std::min<size_t>(n, size_t{1} << 30));
            if (w < 0) {
                if (errno == EINTR) continue;
                fail("write");
            }
            p += w;
            n -= static_cast<size_t>(w);
        }
    }

    void commit() {
        if (::fsync(fd_) != 0) fail("fsync");
        int fd = fd_;
        fd_ = -1;
        if (::close(fd) != 0) fail("close");
        if (::rename(path_.c_str(), target_.c_str()) != 0) fail("rename");
        committed_ = true;
    }

private:
    [[noreturn]] void fail(const char* op) {
        throw IoError(fmt::format("{}: {} of {} failed: {}", target_, op, path_, std::strerror(errno)));
    }
    std::string target_, path_;
    int fd_ = -1;
    bool committed_ = false;
};

void write_le_floats(TempFile& out, const float* data, uint64_t numel) {
#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    std::vector<unsigned char> buf;
    constexpr uint64_t kChunk = 1 << 18;
    for (uint64_t i = 0; i < numel; i += kChunk) {
        uint64_t n = std::min(kChunk, numel - i);
        buf.resize(4 * n);
        for (uint64_t j = 0; j < n; ++j) {
            uint32_t bits;
            std::memcpy(&bits, data + i + j, 4);
            for (int b = 0; b < 4; ++b) buf[4 * j + b] = static_cast<unsigned char>(bits >> (8 * b));
        }
        out.write(buf.data(), buf.size());
    }
#else
    out.write(data, static_cast<size_t>(4 * numel));
#endif
}

}  // namespace

void write_safetensors(const std::string& path, const std::vector<SafetensorsTensorView>& tensors,
                       const std::vector<std::pair<std::string, std::string>>& metadata) {
    std::vector<Planned> plan;
    plan.reserve(tensors.size());
    std::set<std::string> names;
    for (const auto& t : tensors) {
        if (t.name.empty() || t.name == "__metadata__")
            throw UsageError(fmt::format("write_safetensors: invalid tensor name \"{}\"", t.name));
        if (!names.insert(t.name).second)
            throw UsageError(fmt::format("write_safetensors: tensor '{}' given twice", t.name));
        const uint64_t numel = checked_numel(t);
        if (numel > 0 && !t.data)
            throw UsageError(fmt::format("write_safetensors: tensor '{}' has no data", t.name));
        plan.push_back({&t, numel, 0});
    }
    std::sort(plan.begin(), plan.end(),
              [](const Planned& a, const Planned& b) { return a.view->name < b.view->name; });
    uint64_t offset = 0;
    for (auto& p : plan) {
        p.begin = offset;
        if (4 * p.numel > std::numeric_limits<uint64_t>::max() - offset)
            throw UsageError("write_safetensors: tensors too large in total");
        offset += 4 * p.numel;
    }
    const std::string header = build_header(plan, metadata);

    TempFile out(path);
    unsigned char len[8];
    uint64_t n = header.size();
    for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(n >> (8 * i));
    out.write(len, sizeof len);
    out.write(header.data(), header.size());
    for (const auto& p : plan) write_le_floats(out, p.view->data, p.numel);
    out.commit();
}

}  // namespace headscope
