// GgufFile: the GGUF preamble (magic, version, counts), metadata, tensor directory and data.
// Layout: "GGUF" | uint32 version | count n_tensors | count n_kv | n_kv x (string key,
// uint32 type, value) | n_tensors x (string name, uint32 n_dims, count ne[n_dims],
// uint32 ggml type, uint64 offset) | padding to general.alignment | tensor data.
// "count" is uint32 in v1 and uint64 in v2/v3; ne[0] is the fastest-varying dimension.
#include "headscope/formats/gguf_file.hpp"

#include <algorithm>
#include <limits>
#include <numeric>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "formats/binary_reader.hpp"
#include "formats/checked_math.hpp"
#include "formats/dequantize.hpp"
#include "formats/ggml_type.hpp"
#include "formats/gguf_reader.hpp"
#include "formats/mapped_file.hpp"
#include "formats/tensor_lookup.hpp"

namespace headscope {

using formats::BinaryReader;
using formats::GgufReader;

namespace {
constexpr uint64_t kDefaultAlignment = 32;
constexpr uint64_t kMaxAlignment = uint64_t{1} << 30;
constexpr uint32_t kMaxDims = 4;
constexpr const char* kAlignmentKey = "general.alignment";

std::string printable_bytes(std::string_view bytes) {
    std::string hex, text;
    for (unsigned char c : bytes) {
        hex += fmt::format("{}{:02x}", hex.empty() ? "" : " ", c);
        text += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '.';
    }
    return fmt::format("{} (\"{}\")", hex, text);
}

uint32_t byteswap32(uint32_t v) {
    return ((v & 0xFFu) << 24) | ((v & 0xFF00u) << 8) | ((v >> 8) & 0xFF00u) | (v >> 24);
}
}  // namespace

struct GgufFile::Impl {
    std::string path;
    std::shared_ptr<formats::MappedFile> mapping;
    const formats::MappedFile& map;
    uint32_t version = 0;
    uint64_t alignment = kDefaultAlignment;
    uint64_t data_offset = 0;
    std::map<std::string, GgufValue> metadata;
    std::vector<TensorInfo> tensors;

    explicit Impl(std::string p)
        : path(std::move(p)), mapping(std::make_shared<formats::MappedFile>(path)), map(*mapping) {}

    [[noreturn]] void fail(const std::string& problem) const { throw FormatError(path, problem); }

    void parse() {
        BinaryReader r(map.data(), map.size(), path);
        read_preamble(r);
        GgufReader g(r, version);
        const uint64_t n_tensors = g.count("tensor count");
        const uint64_t n_kv = g.count("metadata entry count");
        check_counts(r, g, n_tensors, n_kv);
        for (uint64_t i = 0; i < n_kv; ++i) read_metadata_entry(g, i, n_kv);
        read_alignment();
        for (uint64_t i = 0; i < n_tensors; ++i) read_tensor_info(g, i, n_tensors);
        if (!formats::checked_align_up(r.offset(), alignment, &data_offset))
            fail("data section offset overflows");
        place_tensors();
    }

    void read_preamble(BinaryReader& r) {
        if (map.size() < 4)
            fail(fmt::format("not a GGUF file: {} bytes is too short to hold the 4-byte magic \"GGUF\"",
                             map.size()));
        const std::string_view magic = r.bytes(4, "magic");
        if (magic != "GGUF") {
            if (magic == "lmgg" || magic == "fmgg" || magic == "tjgg")
                fail("this is a pre-GGUF GGML/GGMF/GGJT file (magic " + printable_bytes(magic) +
                     "); convert it to GGUF with llama.cpp's convert_llama_ggml_to_gguf.py");
            fail("not a GGUF file: the first 4 bytes are " + printable_bytes(magic) + ", expected \"GGUF\"");
        }
        version = r.u32("version");
        if (version >= 1 && version <= 3) return;
        const uint32_t swapped = byteswap32(version);
        if (swapped >= 1 && swapped <= 3)
            fail(
                fmt::format("big-endian GGUF (version field reads {} byte-swapped) is not supported; "
                            "headscope reads little-endian GGUF",
                            swapped));
        fail(fmt::format("unsupported GGUF version {}; headscope reads versions 1, 2 and 3", version));
    }

    // Each metadata entry and tensor info has a minimum encoded size; refuse counts that could
    // not fit in the file before reserving anything.
    void check_counts(const BinaryReader& r, const GgufReader& g, uint64_t n_tensors, uint64_t n_kv) const {
        const uint64_t cb = g.count_bytes();
        const uint64_t min_kv = cb + 1 + 4 + 1;               // key, type, smallest value
        const uint64_t min_tensor = cb + 1 + 4 + cb + 4 + 8;  // name, n_dims, ne[0], type, offset
        uint64_t kv_bytes = 0, tensor_bytes = 0, total = 0;
        if (!formats::checked_mul(n_kv, min_kv, &kv_bytes) ||
            !formats::checked_mul(n_tensors, min_tensor, &tensor_bytes) ||
            !formats::checked_add(kv_bytes, tensor_bytes, &total) || total > r.remaining())
            fail(fmt::format(
                "header claims {} tensors and {} metadata entries, which cannot fit in the {} bytes after "
                "the counts (a metadata entry takes at least {} bytes, a tensor info at least {})",
                n_tensors, n_kv, r.remaining(), min_kv, min_tensor));
    }

    void read_metadata_entry(GgufReader& g, uint64_t index, uint64_t count) {
        std::string key;
        try {
            key = g.string("metadata key");
            if (key.empty()) fail("empty metadata key");
            if (metadata.count(key)) fail("duplicate metadata key");
            const uint64_t type_at = g.raw().offset();
            const uint32_t type = g.raw().u32("metadata value type");
            if (type > static_cast<uint32_t>(formats::GgufType::float64))
                fail(fmt::format("unknown value type {} at offset {} (expected 0..12)", type, type_at));
            if (auto v = g.value(type)) metadata.emplace(key, std::move(*v));
        } catch (const FormatError& e) {
            fail(fmt::format("{} [metadata entry {} of {}{}]", e.problem(), index, count,
                             key.empty() ? std::string() : ", key '" + key + "'"));
        }
    }

    void read_alignment() {
        auto it = metadata.find(kAlignmentKey);
        if (it == metadata.end()) return;
        const int64_t* a = std::get_if<int64_t>(&it->second.value);
        if (!a)
            fail(fmt::format("metadata key '{}' is {}, expected an integer", kAlignmentKey,
                             formats::describe_value_kind(it->second)));
        if (*a <= 0 || !formats::is_power_of_two(static_cast<uint64_t>(*a)) ||
            static_cast<uint64_t>(*a) > kMaxAlignment)
            fail(fmt::format("metadata key '{}' is {}, expected a power of two between 1 and {}",
                             kAlignmentKey, *a, kMaxAlignment));
        alignment = static_cast<uint64_t>(*a);
    }

    void read_tensor_info(GgufReader& g, uint64_t index, uint64_t count) {
        std::string name;
        try {
            BinaryReader& r = g.raw();
            name = g.string("tensor name");
            if (name.empty()) fail("empty tensor name");
            const uint32_t n_dims = r.u32("tensor dimension count");
            if (n_dims == 0 || n_dims > kMaxDims)
                fail(fmt::format("tensor has {} dimensions; GGUF tensors have 1 to {}", n_dims, kMaxDims));
            std::vector<uint64_t> ne(n_dims);
            for (auto& d : ne) d = g.count("tensor dimension");
            const uint32_t type_id = r.u32("tensor type");
            const uint64_t offset = r.u64("tensor data offset");

            TensorInfo info;
            info.name = name;
            info.type = storage_type(type_id);
            info.offset = offset;  // relative to the data section until place_tensors()
            info.nbytes = data_bytes(ne, info.type);
            info.shape.assign(ne.rbegin(), ne.rend());  // GGUF lists ne[0] (fastest) first
            tensors.push_back(std::move(info));
        } catch (const FormatError& e) {
            fail(fmt::format("{} [tensor info {} of {}{}]", e.problem(), index, count,
                             name.empty() ? std::string() : ", tensor '" + name + "'"));
        }
    }

    StorageType storage_type(uint32_t type_id) const {
        const formats::GgmlType* t = formats::find_ggml_type(type_id);
        if (!t) fail(fmt::format("unknown tensor type id {} (not a ggml type)", type_id));
        if (!t->storage)
            fail(fmt::format("tensor type {} ({}) is not supported; supported: {}", t->name, type_id,
                             formats::supported_ggml_types()));
        return *t->storage;
    }

    uint64_t data_bytes(const std::vector<uint64_t>& ne, StorageType type) const {
        uint64_t numel = 1;
        for (uint64_t d : ne) {
            if (d == 0)
                fail(fmt::format("tensor has a zero-sized dimension (ne = [{}])", fmt::join(ne, ", ")));
            if (!formats::checked_mul(numel, d, &numel) ||
                numel > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
                fail(fmt::format("tensor dimensions [{}] overflow the element count", fmt::join(ne, ", ")));
        }
        const uint64_t block = formats::block_elements(type);
        if (ne[0] % block != 0)
            fail(fmt::format("{} tensor has rows of {} elements, not a multiple of its {}-element block",
                             to_string(type), ne[0], block));
        uint64_t nbytes = 0;
        if (!formats::checked_mul(numel / block, formats::block_bytes(type), &nbytes))
            fail("tensor data size overflows");
        return nbytes;
    }

    // Turns data-section offsets into absolute ones and checks that every tensor lies inside
    // the file, is aligned, and that no two tensors share bytes or a name.
    void place_tensors() {
        for (auto& t : tensors) {
            if (t.offset % alignment != 0)
                fail(fmt::format("tensor '{}' has data offset {}, not a multiple of the alignment {}", t.name,
                                 t.offset, alignment));
            uint64_t begin = 0, end = 0;
            if (!formats::checked_add(data_offset, t.offset, &begin) ||
                !formats::checked_add(begin, t.nbytes, &end) || end > map.size())
                fail(fmt::format(
                    "tensor '{}' ({} {}, {} bytes at data offset {}) extends past the end of the file ({} "
                    "bytes; tensor data starts at byte {}): the file is truncated or the offset is wrong",
                    t.name, to_string(t.type), formats::shape_string(t.shape), t.nbytes, t.offset, map.size(),
                    data_offset));
            t.offset = begin;
        }
        std::vector<size_t> order(tensors.size());
        std::iota(order.begin(), order.end(), size_t{0});
        std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
            return tensors[a].offset < tensors[b].offset ||
                   (tensors[a].offset == tensors[b].offset && tensors[a].name < tensors[b].name);
        });
        for (size_t i = 1; i < order.size(); ++i) {
            const TensorInfo& prev = tensors[order[i - 1]];
            const TensorInfo& cur = tensors[order[i]];
            if (cur.offset < prev.offset + prev.nbytes)
                fail(fmt::format("tensors '{}' (bytes {}..{}) and '{}' (bytes {}..{}) overlap", prev.name,
                                 prev.offset, prev.offset + prev.nbytes, cur.name, cur.offset,
                                 cur.offset + cur.nbytes));
        }
        std::vector<const std::string*> names;
        names.reserve(tensors.size());
        for (const auto& t : tensors) names.push_back(&t.name);
        std::sort(names.begin(), names.end(), [](auto* a, auto* b) { return *a < *b; });
        for (size_t i = 1; i < names.size(); ++i)
            if (*names[i] == *names[i - 1]) fail(fmt::format("duplicate tensor name '{}'", *names[i]));
    }

    const GgufValue* find(const std::string& key) const {
        auto it = metadata.find(key);
        return it == metadata.end() ? nullptr : &it->second;
    }

    [[noreturn]] void wrong_type(const std::string& key, const GgufValue& v, const char* expected) const {
        fail(fmt::format("metadata key '{}' is {}, expected {}", key, formats::describe_value_kind(v),
                         expected));
    }

    template <class T>
    const T* array_of(const GgufValue& v) const {
        const auto* a = std::get_if<GgufValue::Array>(&v.value);
        return a ? std::get_if<T>(a) : nullptr;
    }
};

GgufFile::GgufFile(std::string path) : impl_(std::make_unique<Impl>(std::move(path))) { impl_->parse(); }
GgufFile::~GgufFile() = default;

uint32_t GgufFile::version() const { return impl_->version; }
const std::string& GgufFile::path() const { return impl_->path; }
const std::vector<TensorInfo>& GgufFile::tensors() const { return impl_->tensors; }
const std::map<std::string, GgufValue>& GgufFile::metadata() const { return impl_->metadata; }

void GgufFile::read_f32(const TensorInfo& info, float* dst) const {
    const TensorInfo& t = formats::resolve_tensor(impl_->tensors, info, impl_->path);
    if (!dst) throw UsageError(impl_->path + ": read_f32 of '" + t.name + "' into a null buffer");
    // place_tensors() proved [offset, offset + nbytes) lies inside the mapping.
    formats::dequantize_to_f32(t.type, impl_->map.data() + t.offset, static_cast<uint64_t>(t.numel()), dst);
}

std::optional<int64_t> GgufFile::get_int(const std::string& key) const {
    const GgufValue* v = impl_->find(key);
    if (!v) return std::nullopt;
    if (const auto* i = std::get_if<int64_t>(&v->value)) return *i;
    impl_->wrong_type(key, *v, "an integer");
}

std::optional<double> GgufFile::get_float(const std::string& key) const {
    const GgufValue* v = impl_->find(key);
    if (!v) return std::nullopt;
    if (const auto* d = std::get_if<double>(&v->value)) return *d;
    if (const auto* i = std::get_if<int64_t>(&v->value)) return static_cast<double>(*i);
    impl_->wrong_type(key, *v, "a number");
}

std::optional<std::string> GgufFile::get_string(const std::string& key) const {
    const GgufValue* v = impl_->find(key);
    if (!v) return std::nullopt;
    if (const auto* s = std::get_if<std::string>(&v->value)) return *s;
    impl_->wrong_type(key, *v, "a string");
}

std::optional<std::vector<std::string>> GgufFile::get_strings(const std::string& key) const {
    const GgufValue* v = impl_->find(key);
    if (!v) return std::nullopt;
    if (const auto* a = impl_->array_of<std::vector<std::string>>(*v)) return *a;
    impl_->wrong_type(key, *v, "an array of strings");
}

std::optional<std::vector<double>> GgufFile::get_floats(const std::string& key) const {
    const GgufValue* v = impl_->find(key);
    if (!v) return std::nullopt;
    if (const auto* a = impl_->array_of<std::vector<double>>(*v)) return *a;
    if (const auto* a = impl_->array_of<std::vector<int64_t>>(*v))
        return std::vector<double>(a->begin(), a->end());
    impl_->wrong_type(key, *v, "an array of numbers");
}

std::optional<std::vector<int64_t>> GgufFile::get_ints(const std::string& key) const {
    const GgufValue* v = impl_->find(key);
    if (!v) return std::nullopt;
    if (const auto* a = impl_->array_of<std::vector<int64_t>>(*v)) return *a;
    impl_->wrong_type(key, *v, "an array of integers");
}

MappedBytes GgufFile::mapped(const TensorInfo& info) const {
    const TensorInfo& t = formats::resolve_tensor(impl_->tensors, info, impl_->path);
    return {impl_->mapping->mutable_data() + t.offset, impl_->mapping};
}

}  // namespace headscope
