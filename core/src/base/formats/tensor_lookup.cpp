#include "formats/tensor_lookup.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "headscope/error.hpp"

namespace headscope::formats {

const TensorInfo& resolve_tensor(const std::vector<TensorInfo>& own, const TensorInfo& info,
                                 const std::string& path) {
    if (!own.empty() && &info >= own.data() && &info < own.data() + own.size()) return info;
    for (const auto& t : own) {
        if (t.name != info.name) continue;
        if (t.shape != info.shape || t.type != info.type || t.offset != info.offset ||
            t.nbytes != info.nbytes)
            throw UsageError(
                fmt::format("{}: the description of tensor '{}' passed to read_f32 ({} {}, offset {}, {} "
                            "bytes) does not match the file's ({} {}, offset {}, {} bytes)",
                            path, info.name, to_string(info.type), shape_string(info.shape), info.offset,
                            info.nbytes, to_string(t.type), shape_string(t.shape), t.offset, t.nbytes));
        return t;
    }
    throw UsageError(fmt::format("{}: no tensor named '{}' in this file", path, info.name));
}

}  // namespace headscope::formats
