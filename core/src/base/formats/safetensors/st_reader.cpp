#include "formats/safetensors/st_reader.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "formats/safetensors/half_float.hpp"
#include "formats/safetensors/pickle_advice.hpp"
#include "formats/safetensors/st_header.hpp"
#include "headscope/error.hpp"

namespace headscope::st {

namespace {

std::string with_hint(std::string problem, const unsigned char* first, size_t n) {
    std::string hint = sniff_other_format(first, n);
    if (hint.empty()) hint = "is this a safetensors file?";
    return problem + "; " + hint;
}

constexpr bool host_is_little_endian() {
#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return false;
#else
    return true;
#endif
}

uint16_t load_le16(const unsigned char* p) {
    return static_cast<uint16_t>(p[0] | (static_cast<unsigned>(p[1]) << 8));
}

}  // namespace

Reader::Reader(std::string path) : file_(std::move(path)) {
    const uint64_t size = file_.size();
    if (size < 8)
        throw FormatError(this->path(), fmt::format("file is {} bytes; a safetensors file starts with "
                                                    "an 8-byte header length", size));
    unsigned char first[8];
    file_.read_exact(0, first, sizeof first, "the header length");
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | first[i];

    if (n > kMaxHeaderBytes)
        throw FormatError(this->path(), with_hint(fmt::format("header length {} bytes exceeds the "
                                                              "{}-byte limit",
                                                              n, kMaxHeaderBytes),
                                                  first, sizeof first));
    if (n > size - 8)
        throw FormatError(this->path(),
                          with_hint(fmt::format("header length {} bytes runs past the end of the "
                                                "file ({} bytes, room for at most {} header bytes)",
                                                n, size, size - 8),
                                    first, sizeof first));
    if (n == 0)
        throw FormatError(this->path(), "header length is 0; expected a JSON object after the "
                                        "8-byte length");

    std::string text(static_cast<size_t>(n), '\0');
    file_.read_exact(8, text.data(), text.size(), "the JSON header");
    const uint64_t data_start = 8 + n;
    Header header = parse_header(this->path(), text, size - data_start);

    metadata_ = std::move(header.metadata);
    for (auto& e : header.entries) {
        if (!e.dtype->storage) {
            unsupported_.emplace(e.name, e.dtype->name);
            continue;
        }
        TensorInfo info;
        info.name = std::move(e.name);
        info.shape = std::move(e.shape);
        info.type = *e.dtype->storage;
        info.offset = data_start + e.begin;
        info.nbytes = e.end - e.begin;
        index_.emplace(info.name, tensors_.size());
        tensors_.push_back(std::move(info));
    }
}

const TensorInfo* Reader::find(const std::string& name) const {
    auto it = index_.find(name);
    return it == index_.end() ? nullptr : &tensors_[it->second];
}

const char* Reader::unsupported_dtype(const std::string& name) const {
    auto it = unsupported_.find(name);
    return it == unsupported_.end() ? nullptr : it->second;
}

void Reader::read_f32(const TensorInfo& info, float* dst) const {
    const TensorInfo* t = find(info.name);
    if (!t) {
        if (const char* dtype = unsupported_dtype(info.name))
            throw FormatError(path(), fmt::format("tensor '{}' has dtype {}, which headscope cannot "
                                                  "read as float32 (supported dtypes: {})",
                                                  info.name, dtype, supported_dtypes()));
        throw UsageError(fmt::format("{}: no tensor named '{}'", path(), info.name));
    }
    if (info.shape != t->shape || info.type != t->type)
        throw UsageError(fmt::format("{}: the TensorInfo passed for '{}' does not match the file's "
                                     "tensor (shape or type differs)", path(), info.name));
    if (t->nbytes == 0) return;
    if (!dst) throw UsageError(fmt::format("{}: null destination for tensor '{}'", path(), t->name));

    const std::string what = fmt::format("tensor '{}'", t->name);
    if (t->type == StorageType::f32) {
        file_.read_exact(t->offset, dst, static_cast<size_t>(t->nbytes), what);
        if (!host_is_little_endian()) {
            auto* bytes = reinterpret_cast<unsigned char*>(dst);
            for (uint64_t i = 0; i < t->nbytes; i += 4) {
                std::swap(bytes[i], bytes[i + 3]);
                std::swap(bytes[i + 1], bytes[i + 2]);
            }
        }
        return;
    }

    // 16-bit types: convert through a bounded buffer rather than holding the whole tensor twice.
    constexpr uint64_t kChunkBytes = uint64_t{1} << 20;
    std::vector<unsigned char> buffer(static_cast<size_t>(std::min(t->nbytes, kChunkBytes)));
    const bool bf16 = t->type == StorageType::bf16;
    for (uint64_t done = 0; done < t->nbytes;) {
        const size_t len = static_cast<size_t>(std::min(kChunkBytes, t->nbytes - done));
        file_.read_exact(t->offset + done, buffer.data(), len, what);
        float* out = dst + done / 2;
        for (size_t i = 0; i < len / 2; ++i) {
            const uint16_t h = load_le16(&buffer[2 * i]);
            out[i] = bf16 ? bf16_to_f32(h) : f16_to_f32(h);
        }
        done += len;
    }
}

}  // namespace headscope::st
