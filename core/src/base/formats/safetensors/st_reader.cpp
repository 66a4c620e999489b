#include "formats/safetensors/st_reader.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "formats/dequantize.hpp"
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

}  // namespace

Reader::Reader(std::string path)
    : path_(std::move(path)), map_(std::make_shared<formats::MappedFile>(path_)) {
    const uint64_t size = map_->size();
    if (size < 8)
        throw FormatError(this->path(), fmt::format("file is {} bytes; a safetensors file starts with "
                                                    "an 8-byte header length", size));
    const unsigned char* first = map_->data();
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | first[i];

    if (n > kMaxHeaderBytes)
        throw FormatError(this->path(), with_hint(fmt::format("header length {} bytes exceeds the "
                                                              "{}-byte limit",
                                                              n, kMaxHeaderBytes),
                                                  first, 8));
    if (n > size - 8)
        throw FormatError(this->path(),
                          with_hint(fmt::format("header length {} bytes runs past the end of the "
                                                "file ({} bytes, room for at most {} header bytes)",
                                                n, size, size - 8),
                                    first, 8));
    if (n == 0)
        throw FormatError(this->path(), "header length is 0; expected a JSON object after the "
                                        "8-byte length");

    const std::string text(reinterpret_cast<const char*>(map_->data()) + 8, static_cast<size_t>(n));
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

const TensorInfo& Reader::own(const TensorInfo& info) const {
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
    return *t;
}

void Reader::read_f32(const TensorInfo& info, float* dst) const {
    const TensorInfo& t = own(info);
    if (t.nbytes == 0) return;
    if (!dst) throw UsageError(fmt::format("{}: null destination for tensor '{}'", path(), t.name));
    // The header check proved [offset, offset + nbytes) lies inside the map.
    formats::dequantize_to_f32(t.type, map_->data() + t.offset, static_cast<uint64_t>(t.numel()), dst);
}

MappedBytes Reader::mapped(const TensorInfo& info) const {
    const TensorInfo& t = own(info);
    return {map_->mutable_data() + t.offset, map_};
}

}  // namespace headscope::st
