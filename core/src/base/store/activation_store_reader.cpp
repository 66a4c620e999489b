// ActivationStoreReader: opens an HDF5 file read-only and reads what is asked for, when asked.
// Any HDF5 file is accepted (not only ones headscope wrote): datasets of 32-bit floats and
// 64-bit signed integers in any byte order are read; other element types are listed (as the
// nearest of f32/i64) but refused with a FormatError when read. Attributes holding one string
// (fixed or variable length), integer or float are returned; other attributes are refused.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "headscope/activation_store.hpp"
#include "headscope/error.hpp"
#include "store/hdf5_support.hpp"

namespace headscope {

using store::check;
using store::FailKind;
using store::Hid;

namespace {

constexpr FailKind kFormat = FailKind::format;

// What the reader knows about one dataset once opened.
struct DatasetMeta {
    DatasetInfo info;
    std::vector<hsize_t> dims;
    hsize_t elements = 0;
    bool exact_f32 = false;  // IEEE 32-bit float (any byte order)
    bool exact_i64 = false;  // 64-bit two's complement signed integer (any byte order)
    std::string type_description;
    bool is_float = false;
};

DatasetMeta describe_dataset(hid_t dset, const std::string& name, const std::string& file) {
    DatasetMeta meta;
    meta.info.name = name;
    Hid type(check(H5Dget_type(dset), kFormat, file, fmt::format("cannot read the type of '{}'", name)), H5Tclose);
    Hid space(check(H5Dget_space(dset), kFormat, file, fmt::format("cannot read the shape of '{}'", name)), H5Sclose);

    H5T_class_t cls = H5Tget_class(type.get());
    size_t size = H5Tget_size(type.get());
    meta.exact_f32 = cls == H5T_FLOAT && size == 4;
    meta.exact_i64 = cls == H5T_INTEGER && size == 8 && H5Tget_sign(type.get()) == H5T_SGN_2;
    meta.info.type = cls == H5T_INTEGER ? ElementType::i64 : (cls == H5T_FLOAT && size == 8 ? ElementType::f64 : ElementType::f32);
    meta.is_float = cls == H5T_FLOAT;
    meta.type_description = store::describe_type(type.get());

    H5S_class_t space_class = H5Sget_simple_extent_type(space.get());
    if (space_class == H5S_NULL) {  // h5py.Empty: no elements at all
        meta.info.shape = {0};
        meta.dims = {0};
        meta.elements = 0;
        return meta;
    }
    int rank = H5Sget_simple_extent_ndims(space.get());
    if (rank < 0) store::fail(kFormat, file, fmt::format("cannot read the rank of '{}'", name));
    meta.dims.resize(static_cast<size_t>(rank));
    if (rank > 0 && H5Sget_simple_extent_dims(space.get(), meta.dims.data(), nullptr) < 0) {
        store::fail(kFormat, file, fmt::format("cannot read the shape of '{}'", name));
    }
    meta.elements = 1;
    for (hsize_t d : meta.dims) {
        if (d > static_cast<hsize_t>(std::numeric_limits<int64_t>::max()) ||
            (d != 0 && meta.elements > std::numeric_limits<hsize_t>::max() / d)) {
            throw FormatError(file, fmt::format("dataset '{}' has an impossible shape [{}]", name, fmt::join(meta.dims, ", ")));
        }
        meta.elements *= d;
        meta.info.shape.push_back(static_cast<int64_t>(d));
    }
    return meta;
}

// A corrupted shape must become an error, not a huge allocation: a contiguous dataset's bytes
// have to lie inside the file (chunked data may be compressed or sparse, so only memory limits
// it: see allocate()).
void check_plausible(hid_t file, hid_t dset, const DatasetMeta& meta, size_t element_size, const std::string& path) {
    Hid dcpl(check(H5Dget_create_plist(dset), kFormat, path,
                   fmt::format("cannot read the layout of '{}'", meta.info.name)),
             H5Pclose);
    if (H5Pget_layout(dcpl.get()) != H5D_CONTIGUOUS || H5Pget_external_count(dcpl.get()) != 0) return;
    haddr_t offset = H5Dget_offset(dset);
    if (offset == HADDR_UNDEF) return;  // never written: reads give the fill value
    hsize_t file_size = 0;
    if (H5Fget_filesize(file, &file_size) < 0) return;
    bool fits = meta.elements <= std::numeric_limits<hsize_t>::max() / element_size &&
                offset <= file_size && meta.elements * element_size <= file_size - offset;
    if (!fits) {
        throw FormatError(path, fmt::format("dataset '{}' of shape [{}] would need {} bytes at offset {}, past the "
                                            "end of the file ({} bytes): the file is damaged",
                                            meta.info.name, fmt::join(meta.info.shape, ", "),
                                            static_cast<double>(meta.elements) * static_cast<double>(element_size),
                                            offset, file_size));
    }
}

// The output buffer of a read, with memory exhaustion reported as an error naming the dataset.
template <typename T>
std::vector<T> allocate(hsize_t elements, const DatasetMeta& meta, const std::string& path) {
    try {
        if (elements > std::numeric_limits<size_t>::max() / sizeof(T)) throw std::length_error("size");
        return std::vector<T>(static_cast<size_t>(elements));
    } catch (const std::exception&) {  // bad_alloc, length_error
        throw FormatError(path, fmt::format("dataset '{}' of shape [{}]: {} values do not fit in memory; read a "
                                            "hyperslab instead",
                                            meta.info.name, fmt::join(meta.info.shape, ", "), elements));
    }
}

struct ListContext {
    const std::string* file = nullptr;
    std::vector<DatasetInfo> out;
    std::exception_ptr error;
};

herr_t list_one(hid_t group, const char* name, const H5L_info_t* link, void* data) {
    auto* ctx = static_cast<ListContext*>(data);
    try {
        if (link->type != H5L_TYPE_HARD) return 0;  // soft/external links point at listed objects or outside
        Hid obj(H5Oopen(group, name, H5P_DEFAULT), H5Oclose);
        std::string full = std::string("/") + name;
        check(obj.get(), kFormat, *ctx->file, fmt::format("cannot open '{}'", full));
        if (H5Iget_type(obj.get()) == H5I_DATASET) {
            ctx->out.push_back(describe_dataset(obj.get(), full, *ctx->file).info);
        }
        return 0;
    } catch (...) {
        ctx->error = std::current_exception();
        return -1;
    }
}

// Reads one attribute holding a single value as a string, int64 or double.
AttributeValue read_attribute(hid_t attr, const std::string& file, const std::string& object, const std::string& key) {
    const std::string where = fmt::format("attribute '{}' of '{}'", key, object);
    Hid type(check(H5Aget_type(attr), kFormat, file, "cannot read the type of " + where), H5Tclose);
    Hid space(check(H5Aget_space(attr), kFormat, file, "cannot read the shape of " + where), H5Sclose);
    hssize_t points = H5Sget_simple_extent_npoints(space.get());
    if (points < 0) store::fail(kFormat, file, "cannot read the shape of " + where);
    if (points != 1) {
        throw FormatError(file, fmt::format("{} holds {} values; headscope reads attributes holding one string, "
                                            "integer or float",
                                            where, points));
    }
    const hid_t t = type.get();
    switch (H5Tget_class(t)) {
        case H5T_STRING: {
            if (H5Tis_variable_str(t) > 0) {
                Hid memory(check(H5Tcopy(H5T_C_S1), kFormat, file, "cannot read " + where), H5Tclose);
                check(H5Tset_size(memory.get(), H5T_VARIABLE), kFormat, file, "cannot read " + where);
                check(H5Tset_cset(memory.get(), H5Tget_cset(t)), kFormat, file, "cannot read " + where);
                char* text = nullptr;
                check(H5Aread(attr, memory.get(), &text), kFormat, file, "cannot read " + where);
                std::string value = text ? text : "";
                store::reclaim_vlen(memory.get(), space.get(), &text);
                return value;
            }
            size_t size = H5Tget_size(t);
            if (size == 0 || size > (size_t{1} << 30)) {
                throw FormatError(file, fmt::format("{} has an impossible string size {}", where, size));
            }
            std::string buffer(size, '\0');
            check(H5Aread(attr, t, buffer.data()), kFormat, file, "cannot read " + where);
            if (H5Tget_strpad(t) == H5T_STR_SPACEPAD) {
                buffer.erase(buffer.find_last_not_of(' ') + 1);
            } else {  // null-terminated or null-padded
                size_t nul = buffer.find('\0');
                if (nul != std::string::npos) buffer.resize(nul);
            }
            return buffer;
        }
        case H5T_INTEGER: {
            if (H5Tget_size(t) > 8) {
                throw FormatError(file, fmt::format("{} is a {}; headscope reads integers of up to 64 bits", where,
                                                    store::describe_type(t)));
            }
            if (H5Tget_sign(t) == H5T_SGN_NONE && H5Tget_size(t) == 8) {
                uint64_t value = 0;
                check(H5Aread(attr, H5T_NATIVE_UINT64, &value), kFormat, file, "cannot read " + where);
                if (value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
                    throw FormatError(file, fmt::format("{} = {} does not fit in a signed 64-bit integer", where, value));
                }
                return static_cast<int64_t>(value);
            }
            int64_t value = 0;
            check(H5Aread(attr, H5T_NATIVE_INT64, &value), kFormat, file, "cannot read " + where);
            return value;
        }
        case H5T_FLOAT: {
            double value = 0;
            check(H5Aread(attr, H5T_NATIVE_DOUBLE, &value), kFormat, file, "cannot read " + where);
            return value;
        }
        default:
            throw FormatError(file, fmt::format("{} is of type {}; headscope reads string, integer and float attributes",
                                                where, store::describe_type(t)));
    }
}

struct AttributeContext {
    const std::string* file = nullptr;
    const std::string* object = nullptr;
    std::map<std::string, AttributeValue> out;
    std::exception_ptr error;
};

herr_t read_one_attribute(hid_t location, const char* name, const H5A_info_t* /*info*/, void* data) {
    auto* ctx = static_cast<AttributeContext*>(data);
    try {
        Hid attr(H5Aopen(location, name, H5P_DEFAULT), H5Aclose);
        check(attr.get(), kFormat, *ctx->file, fmt::format("cannot open attribute '{}' of '{}'", name, *ctx->object));
        ctx->out[name] = read_attribute(attr.get(), *ctx->file, *ctx->object, name);
        return 0;
    } catch (...) {
        ctx->error = std::current_exception();
        return -1;
    }
}

}  // namespace

struct ActivationStoreReader::Impl {
    std::string path;
    Hid file;

    // Opens the named dataset; UsageError if there is none.
    Hid open_dataset(const std::string& dataset, std::string& name) const {
        name = store::normalize_object_path(dataset, false);
        store::ObjectLookup found = store::lookup_object(file.get(), name, kFormat, path);
        if (found.kind == store::ObjectKind::group) {
            throw UsageError(fmt::format("{}: '{}' is a group, not a dataset", path, name));
        }
        if (found.kind != store::ObjectKind::dataset) {
            throw UsageError(fmt::format("{}: no dataset '{}' in the store", path, name));
        }
        Hid dset(H5Dopen2(file.get(), name.c_str(), H5P_DEFAULT), H5Dclose);
        check(dset.get(), kFormat, path, fmt::format("cannot open dataset '{}'", name));
        return dset;
    }

    // Checks that `meta` holds `wanted` values exactly.
    void require_type(const DatasetMeta& meta, ElementType wanted) const {
        if (wanted == ElementType::f64) {
            if (meta.is_float) return;
            throw UsageError(fmt::format("{}: dataset '{}' holds {} values, not floating point", path, meta.info.name,
                                         meta.type_description));
        }
        bool exact = wanted == ElementType::f32 ? meta.exact_f32 : meta.exact_i64;
        if (exact) return;
        const char* wanted_name = wanted == ElementType::f32 ? "f32" : "i64";
        if (meta.exact_f32 || meta.exact_i64) {
            const char* held = meta.exact_f32 ? "f32" : "i64";
            throw UsageError(fmt::format("{}: dataset '{}' holds {} values, not {}; use read_{}", path, meta.info.name,
                                         held, wanted_name, held));
        }
        throw FormatError(path, fmt::format("dataset '{}' holds {} values; headscope reads only 32-bit float (f32) "
                                            "and 64-bit signed integer (i64) datasets",
                                            meta.info.name, meta.type_description));
    }

    template <typename T>
    std::vector<T> read_whole(const std::string& dataset, ElementType wanted, hid_t memory_type) const {
        store::QuietErrors quiet;
        std::string name;
        Hid dset = open_dataset(dataset, name);
        DatasetMeta meta = describe_dataset(dset.get(), name, path);
        require_type(meta, wanted);
        check_plausible(file.get(), dset.get(), meta, sizeof(T), path);
        std::vector<T> out = allocate<T>(meta.elements, meta, path);
        if (!out.empty()) {
            check(H5Dread(dset.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()), kFormat, path,
                  fmt::format("cannot read dataset '{}'", name));
        }
        return out;
    }
};

ActivationStoreReader::ActivationStoreReader(const std::string& path) : impl_(std::make_unique<Impl>()) {
    impl_->path = path;
    // The operating system explains missing or unreadable files better than HDF5 does.
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        throw IoError(fmt::format("{}: cannot open the HDF5 store: {}", path, std::strerror(errno)));
    }
    if (S_ISDIR(st.st_mode)) throw IoError(fmt::format("{}: cannot open the HDF5 store: it is a directory", path));
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw IoError(fmt::format("{}: cannot open the HDF5 store: {}", path, std::strerror(errno)));
    ::close(fd);

    store::QuietErrors quiet;
    htri_t is_hdf5 = store::is_hdf5_file(path.c_str());
    if (is_hdf5 < 0) store::fail(kFormat, path, "cannot check for an HDF5 signature");
    if (is_hdf5 == 0) throw FormatError(path, "not an HDF5 file (no HDF5 signature found)");
    hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) store::fail(kFormat, path, "cannot open the HDF5 file (damaged or truncated?)");
    impl_->file = Hid(f, H5Fclose);
}

ActivationStoreReader::~ActivationStoreReader() {
    if (!impl_) return;
    store::QuietErrors quiet;
    impl_->file.reset();
}

std::vector<DatasetInfo> ActivationStoreReader::datasets() const {
    store::QuietErrors quiet;
    ListContext ctx;
    ctx.file = &impl_->path;
    herr_t status = H5Lvisit(impl_->file.get(), H5_INDEX_NAME, H5_ITER_INC, list_one, &ctx);
    if (ctx.error) std::rethrow_exception(ctx.error);
    if (status < 0) store::fail(kFormat, impl_->path, "cannot list the datasets");
    return std::move(ctx.out);
}

bool ActivationStoreReader::has(const std::string& dataset) const {
    std::string name;
    try {
        name = store::normalize_object_path(dataset, false);
    } catch (const UsageError&) {
        return false;
    }
    store::QuietErrors quiet;
    return store::lookup_object(impl_->file.get(), name, kFormat, impl_->path).kind == store::ObjectKind::dataset;
}

DatasetInfo ActivationStoreReader::info(const std::string& dataset) const {
    store::QuietErrors quiet;
    std::string name;
    Hid dset = impl_->open_dataset(dataset, name);
    return describe_dataset(dset.get(), name, impl_->path).info;
}

std::vector<float> ActivationStoreReader::read_f32(const std::string& dataset) const {
    return impl_->read_whole<float>(dataset, ElementType::f32, H5T_NATIVE_FLOAT);
}

std::vector<int64_t> ActivationStoreReader::read_i64(const std::string& dataset) const {
    return impl_->read_whole<int64_t>(dataset, ElementType::i64, H5T_NATIVE_INT64);
}

std::vector<double> ActivationStoreReader::read_f64(const std::string& dataset) const {
    return impl_->read_whole<double>(dataset, ElementType::f64, H5T_NATIVE_DOUBLE);
}

std::vector<float> ActivationStoreReader::read_f32(const std::string& dataset, const std::vector<int64_t>& start,
                                                   const std::vector<int64_t>& count) const {
    const std::string& path = impl_->path;
    store::QuietErrors quiet;
    std::string name;
    Hid dset = impl_->open_dataset(dataset, name);
    DatasetMeta meta = describe_dataset(dset.get(), name, path);
    impl_->require_type(meta, ElementType::f32);
    const size_t rank = meta.dims.size();
    if (start.size() != rank || count.size() != rank) {
        throw UsageError(fmt::format("{}: hyperslab of '{}' (shape [{}]) needs {} start and count values, got {} and {}",
                                     path, name, fmt::join(meta.info.shape, ", "), rank, start.size(), count.size()));
    }
    std::vector<hsize_t> offsets(rank), counts(rank);
    hsize_t elements = 1;
    for (size_t i = 0; i < rank; ++i) {
        const int64_t dim = meta.info.shape[i];
        if (start[i] < 0 || start[i] > dim) {
            throw UsageError(fmt::format("{}: hyperslab of '{}': start {} of dimension {} is outside [0, {}]", path,
                                         name, start[i], i, dim));
        }
        int64_t n = count[i] == -1 ? dim - start[i] : count[i];
        if (n < 0 || n > dim - start[i]) {
            throw UsageError(fmt::format("{}: hyperslab of '{}': count {} from start {} of dimension {} (size {}) "
                                         "runs past the end (use -1 for 'to the end')",
                                         path, name, count[i], start[i], i, dim));
        }
        offsets[i] = static_cast<hsize_t>(start[i]);
        counts[i] = static_cast<hsize_t>(n);
        elements *= counts[i];  // bounded by the dataset's element count: no overflow
    }
    check_plausible(impl_->file.get(), dset.get(), meta, sizeof(float), path);
    std::vector<float> out = allocate<float>(elements, meta, path);
    if (out.empty()) return out;
    if (rank == 0) {  // a scalar: the whole (one-value) dataset
        check(H5Dread(dset.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()), kFormat, path,
              fmt::format("cannot read dataset '{}'", name));
        return out;
    }
    const std::string what = fmt::format("cannot read a hyperslab of '{}'", name);
    Hid file_space(check(H5Dget_space(dset.get()), kFormat, path, what), H5Sclose);
    check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, offsets.data(), nullptr, counts.data(), nullptr),
          kFormat, path, what);
    Hid memory_space(check(H5Screate_simple(static_cast<int>(rank), counts.data(), nullptr), kFormat, path, what),
                     H5Sclose);
    check(H5Dread(dset.get(), H5T_NATIVE_FLOAT, memory_space.get(), file_space.get(), H5P_DEFAULT, out.data()),
          kFormat, path, what);
    return out;
}

std::map<std::string, AttributeValue> ActivationStoreReader::attributes(const std::string& object) const {
    const std::string& path = impl_->path;
    const std::string name = store::normalize_object_path(object, true);
    store::QuietErrors quiet;
    store::ObjectLookup found = store::lookup_object(impl_->file.get(), name, kFormat, path);
    if (found.kind == store::ObjectKind::missing || found.kind == store::ObjectKind::parent_not_group) {
        throw UsageError(fmt::format("{}: no object '{}' in the store", path, name));
    }
    Hid obj(H5Oopen(impl_->file.get(), name.c_str(), H5P_DEFAULT), H5Oclose);
    check(obj.get(), kFormat, path, fmt::format("cannot open '{}'", name));
    AttributeContext ctx;
    ctx.file = &path;
    ctx.object = &name;
    hsize_t index = 0;
    herr_t status = H5Aiterate2(obj.get(), H5_INDEX_NAME, H5_ITER_INC, &index, read_one_attribute, &ctx);
    if (ctx.error) std::rethrow_exception(ctx.error);
    if (status < 0) store::fail(kFormat, path, fmt::format("cannot list the attributes of '{}'", name));
    return std::move(ctx.out);
}

}  // namespace headscope
