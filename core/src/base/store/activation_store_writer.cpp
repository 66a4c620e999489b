// ActivationStoreWriter: writes datasets and attributes into "<path>.tmp-<pid>-<n>" and renames
// it over <path> in commit(). Layout choices (all readable by h5py with no headscope code):
//  - f32 as H5T_IEEE_F32LE, i64 as H5T_STD_I64LE;
//  - non-empty arrays chunked (leading dimensions split first, <= 1 MiB per chunk), shuffle +
//    deflate level 4; scalars use a scalar dataspace and empty arrays a contiguous layout, as
//    HDF5 cannot chunk either;
//  - string attributes as scalar variable-length UTF-8 (h5py returns str), int64 and double
//    attributes as scalar 64-bit values.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "headscope/activation_store.hpp"
#include "headscope/error.hpp"
#include "store/hdf5_support.hpp"
#include "tokenizers/utf8.hpp"

namespace headscope {

using store::check;
using store::FailKind;
using store::Hid;

namespace {

constexpr unsigned kDeflateLevel = 4;
constexpr size_t kChunkBytes = size_t{1} << 20;

// Chunk shape for a non-empty array of `dims`: whole trailing dimensions, leading dimensions
// cut down (to 1 if needed) until a chunk holds at most kChunkBytes; a single trailing
// dimension larger than that is split too. Every entry is >= 1 and <= its dimension.
std::vector<hsize_t> choose_chunk(const std::vector<hsize_t>& dims, size_t element_size) {
    const hsize_t max_elements = std::max<hsize_t>(1, kChunkBytes / element_size);
    std::vector<hsize_t> chunk = dims;
    for (size_t i = 0; i < chunk.size(); ++i) {
        hsize_t rest = 1;  // elements in one slice along dimension i (dims i+1..)
        bool rest_fits = true;
        for (size_t j = i + 1; j < chunk.size(); ++j) {
            if (rest > max_elements / chunk[j]) {
                rest_fits = false;
                break;
            }
            rest *= chunk[j];
        }
        if (rest_fits) {  // keep as many whole slices as fit (at least one)
            chunk[i] = std::min(chunk[i], max_elements / rest);
            break;
        }
        chunk[i] = 1;  // even one slice is too big: split the trailing dimensions too
    }
    return chunk;
}

}  // namespace

struct ActivationStoreWriter::Impl {
    std::string path;
    std::string tmp_path;
    Hid file;
    bool committed = false;

    void require_open(const char* operation) const {
        if (!file.valid()) {
            throw UsageError(fmt::format("ActivationStoreWriter({}): cannot {} after commit()", path, operation));
        }
    }

    template <typename T>
    void write(const std::string& dataset, const std::vector<int64_t>& shape, const T* data,
               hid_t file_type, hid_t memory_type, const char* type_name);
};

ActivationStoreWriter::ActivationStoreWriter(std::string path) : impl_(std::make_unique<Impl>()) {
    if (path.empty()) throw UsageError("ActivationStoreWriter: the output path is empty");
    static std::atomic<unsigned long> counter{0};
    impl_->path = std::move(path);
    impl_->tmp_path = fmt::format("{}.tmp-{}-{}", impl_->path, static_cast<long>(::getpid()), counter++);

    const std::string& final_path = impl_->path;
    const std::string& tmp = impl_->tmp_path;
    struct stat st {};
    if (::stat(final_path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
        throw IoError(fmt::format("{}: cannot write the HDF5 store there: it is a directory", final_path));
    }
    // Reserve the temporary name ourselves: the operating system's reason for a failure
    // (missing folder, no permission) is clearer than HDF5's, and O_EXCL never clobbers.
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) {
        throw IoError(fmt::format("{}: cannot create the temporary file '{}': {}", final_path, tmp,
                                  std::strerror(errno)));
    }
    ::close(fd);

    store::QuietErrors quiet;
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    hid_t f = H5I_INVALID_HID;
    // Closing the file closes anything still open in it, so commit() really releases it.
    if (fapl >= 0 && H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) >= 0) {
        f = H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    }
    if (f < 0) {
        std::string stack = store::error_stack();
        if (fapl >= 0) H5Pclose(fapl);
        std::remove(tmp.c_str());
        throw IoError(fmt::format("{}: cannot create the temporary HDF5 file '{}'{}", final_path, tmp,
                                  stack.empty() ? "" : " (HDF5: " + stack + ")"));
    }
    H5Pclose(fapl);
    impl_->file = Hid(f, H5Fclose);
}

ActivationStoreWriter::~ActivationStoreWriter() {
    if (!impl_ || impl_->committed) return;
    store::QuietErrors quiet;
    impl_->file.reset();
    std::remove(impl_->tmp_path.c_str());
}

const std::string& ActivationStoreWriter::path() const { return impl_->path; }

template <typename T>
void ActivationStoreWriter::Impl::write(const std::string& dataset, const std::vector<int64_t>& shape,
                                        const T* data, hid_t file_type, hid_t memory_type,
                                        const char* type_name) {
    require_open("write a dataset");
    const std::string name = store::normalize_object_path(dataset, false);

    std::vector<hsize_t> dims;
    hsize_t elements = 1;
    const hsize_t max_elements = std::numeric_limits<size_t>::max() / sizeof(T);
    for (size_t i = 0; i < shape.size(); ++i) {
        if (shape[i] < 0) {
            throw UsageError(fmt::format("{}: dataset '{}': dimension {} is negative ({})", path, name, i, shape[i]));
        }
        auto d = static_cast<hsize_t>(shape[i]);
        if (d != 0 && elements > max_elements / d) {
            throw UsageError(fmt::format("{}: dataset '{}': shape [{}] is too large", path, name, fmt::join(shape, ", ")));
        }
        elements *= d;
        dims.push_back(d);
    }
    if (elements > 0 && data == nullptr) {
        throw UsageError(fmt::format("{}: dataset '{}': no data given for {} {} values", path, name, elements, type_name));
    }

    store::QuietErrors quiet;
    const hid_t f = file.get();
    store::ObjectLookup existing = store::lookup_object(f, name, FailKind::io, path);
    if (existing.kind == store::ObjectKind::parent_not_group) {
        throw UsageError(fmt::format("{}: cannot write dataset '{}': '{}' is not a group", path, name, existing.blocker));
    }
    if (existing.kind != store::ObjectKind::missing) {
        throw UsageError(fmt::format("{}: '{}' already exists in the store (each dataset is written once)", path, name));
    }

    Hid lcpl(check(H5Pcreate(H5P_LINK_CREATE), FailKind::io, path, "cannot create link properties"), H5Pclose);
    check(H5Pset_char_encoding(lcpl.get(), H5T_CSET_UTF8), FailKind::io, path, "cannot set UTF-8 link names");
    std::vector<std::string> parts = store::path_components(name);
    std::string group_path;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
        group_path += "/" + parts[i];
        htri_t exists = H5Lexists(f, group_path.c_str(), H5P_DEFAULT);
        if (exists < 0) store::fail(FailKind::io, path, fmt::format("cannot look up group '{}'", group_path));
        if (exists > 0) continue;  // lookup_object checked it is a group
        Hid group(H5Gcreate2(f, group_path.c_str(), lcpl.get(), H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
        check(group.get(), FailKind::io, path, fmt::format("cannot create group '{}'", group_path));
    }

    Hid space = dims.empty() ? Hid(H5Screate(H5S_SCALAR), H5Sclose)
                             : Hid(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
    check(space.get(), FailKind::io, path, fmt::format("cannot create the dataspace of '{}'", name));
    Hid dcpl(check(H5Pcreate(H5P_DATASET_CREATE), FailKind::io, path, "cannot create dataset properties"), H5Pclose);
    if (!dims.empty() && elements > 0) {
        std::vector<hsize_t> chunk = choose_chunk(dims, sizeof(T));
        check(H5Pset_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data()), FailKind::io, path,
              fmt::format("cannot set the chunk shape of '{}'", name));
        check(H5Pset_shuffle(dcpl.get()), FailKind::io, path, "cannot enable the shuffle filter");
        check(H5Pset_deflate(dcpl.get(), kDeflateLevel), FailKind::io, path, "cannot enable gzip compression");
    }
    Hid dset(H5Dcreate2(f, name.c_str(), file_type, space.get(), lcpl.get(), dcpl.get(), H5P_DEFAULT), H5Dclose);
    check(dset.get(), FailKind::io, path, fmt::format("cannot create dataset '{}'", name));

    bool ok = elements == 0 || H5Dwrite(dset.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0;
    std::string stack = ok ? std::string() : store::error_stack();
    if (ok && dset.close() < 0) {
        ok = false;
        stack = store::error_stack();
    }
    if (!ok) {
        dset.reset();
        H5Ldelete(f, name.c_str(), H5P_DEFAULT);  // leave no half-written dataset behind
        throw IoError(fmt::format("{}: cannot write {} {} values to '{}'{}", path, elements, type_name, name,
                                  stack.empty() ? "" : " (HDF5: " + stack + ")"));
    }
}

void ActivationStoreWriter::write_f32(const std::string& dataset, const std::vector<int64_t>& shape,
                                      const float* data) {
    impl_->write(dataset, shape, data, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, "f32");
}

void ActivationStoreWriter::write_i64(const std::string& dataset, const std::vector<int64_t>& shape,
                                      const int64_t* data) {
    impl_->write(dataset, shape, data, H5T_STD_I64LE, H5T_NATIVE_INT64, "i64");
}

void ActivationStoreWriter::write_f64(const std::string& dataset, const std::vector<int64_t>& shape,
                                      const double* data) {
    impl_->write(dataset, shape, data, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, "f64");
}

void ActivationStoreWriter::set_attribute(const std::string& object, const std::string& key,
                                          const AttributeValue& value) {
    Impl& m = *impl_;
    m.require_open("set an attribute");
    const std::string name = store::normalize_object_path(object, true);
    if (key.empty()) throw UsageError(fmt::format("{}: empty attribute name on '{}'", m.path, name));
    if (key.find('\0') != std::string::npos) {
        throw UsageError(fmt::format("{}: attribute name on '{}' contains a NUL byte", m.path, name));
    }
    if (const auto* s = std::get_if<std::string>(&value)) {
        if (s->find('\0') != std::string::npos) {
            throw UsageError(fmt::format("{}: attribute '{}' of '{}': strings cannot contain NUL bytes", m.path, key, name));
        }
        if (!utf8::is_valid(*s)) {  // h5py must decode every stored string as str
            throw UsageError(fmt::format("{}: attribute '{}' of '{}': the string is not valid UTF-8", m.path, key, name));
        }
    }

    store::QuietErrors quiet;
    const hid_t f = m.file.get();
    store::ObjectLookup target = store::lookup_object(f, name, FailKind::io, m.path);
    if (target.kind == store::ObjectKind::missing || target.kind == store::ObjectKind::parent_not_group) {
        throw UsageError(fmt::format("{}: cannot set attribute '{}': no object '{}' in the store (write it first)",
                                     m.path, key, name));
    }
    Hid obj(H5Oopen(f, name.c_str(), H5P_DEFAULT), H5Oclose);
    check(obj.get(), FailKind::io, m.path, fmt::format("cannot open '{}'", name));
    const std::string what = fmt::format("cannot write attribute '{}' of '{}'", key, name);
    htri_t exists = H5Aexists(obj.get(), key.c_str());
    if (exists < 0) store::fail(FailKind::io, m.path, what);
    if (exists > 0 && H5Adelete(obj.get(), key.c_str()) < 0) store::fail(FailKind::io, m.path, what);

    Hid space(check(H5Screate(H5S_SCALAR), FailKind::io, m.path, what), H5Sclose);
    Hid acpl(check(H5Pcreate(H5P_ATTRIBUTE_CREATE), FailKind::io, m.path, what), H5Pclose);
    check(H5Pset_char_encoding(acpl.get(), H5T_CSET_UTF8), FailKind::io, m.path, what);

    Hid string_type;
    hid_t file_type = H5I_INVALID_HID, memory_type = H5I_INVALID_HID;
    const void* buffer = nullptr;
    const char* text = nullptr;
    if (const auto* s = std::get_if<std::string>(&value)) {
        string_type = Hid(check(H5Tcopy(H5T_C_S1), FailKind::io, m.path, what), H5Tclose);
        check(H5Tset_size(string_type.get(), H5T_VARIABLE), FailKind::io, m.path, what);
        check(H5Tset_cset(string_type.get(), H5T_CSET_UTF8), FailKind::io, m.path, what);
        file_type = memory_type = string_type.get();
        text = s->c_str();
        buffer = &text;
    } else if (const auto* i = std::get_if<int64_t>(&value)) {
        file_type = H5T_STD_I64LE;
        memory_type = H5T_NATIVE_INT64;
        buffer = i;
    } else {
        file_type = H5T_IEEE_F64LE;
        memory_type = H5T_NATIVE_DOUBLE;
        buffer = &std::get<double>(value);
    }
    Hid attr(H5Acreate2(obj.get(), key.c_str(), file_type, space.get(), acpl.get(), H5P_DEFAULT), H5Aclose);
    check(attr.get(), FailKind::io, m.path, what);
    check(H5Awrite(attr.get(), memory_type, buffer), FailKind::io, m.path, what);
    check(attr.close(), FailKind::io, m.path, what);
}

void ActivationStoreWriter::commit() {
    Impl& m = *impl_;
    m.require_open("commit");
    store::QuietErrors quiet;
    if (H5Fflush(m.file.get(), H5F_SCOPE_GLOBAL) < 0) {
        store::fail(FailKind::io, m.path, fmt::format("cannot flush '{}'", m.tmp_path));
    }
    // From here on the writer is closed whatever happens; the destructor removes the temporary.
    if (m.file.close() < 0) store::fail(FailKind::io, m.path, fmt::format("cannot close '{}'", m.tmp_path));

    // Make the data durable before it becomes visible under the final name.
    int fd = ::open(m.tmp_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || ::fsync(fd) != 0) {
        int err = errno;
        if (fd >= 0) ::close(fd);
        throw IoError(fmt::format("{}: cannot sync '{}': {}", m.path, m.tmp_path, std::strerror(err)));
    }
    ::close(fd);
    if (std::rename(m.tmp_path.c_str(), m.path.c_str()) != 0) {
        int err = errno;
        throw IoError(fmt::format("{}: cannot rename '{}' to it: {}", m.path, m.tmp_path, std::strerror(err)));
    }
    m.committed = true;
    // Best effort: persist the rename itself.
    std::string dir = m.path.find('/') == std::string::npos ? "." : m.path.substr(0, m.path.rfind('/'));
    if (dir.empty()) dir = "/";
    int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)::fsync(dfd);
        ::close(dfd);
    }
}

}  // namespace headscope
