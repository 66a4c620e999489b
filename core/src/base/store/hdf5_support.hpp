// Small helpers around the HDF5 C API shared by the ActivationStore writer and reader: RAII
// ownership of hid_t identifiers, quiet error handling turned into headscope exceptions, and
// object-path parsing/lookup. Internal to headscope_base.
#pragma once

#include <hdf5.h>

#include <string>
#include <vector>

namespace headscope::store {

// Owns one HDF5 identifier and releases it with the matching H5*close function.
class Hid {
public:
    using Closer = herr_t (*)(hid_t);

    Hid() = default;
    Hid(hid_t id, Closer closer) noexcept : id_(id), closer_(closer) {}
    ~Hid() { reset(); }
    Hid(Hid&& other) noexcept : id_(other.id_), closer_(other.closer_) { other.id_ = H5I_INVALID_HID; }
    Hid& operator=(Hid&& other) noexcept {
        if (this != &other) {
            reset();
            id_ = other.id_;
            closer_ = other.closer_;
            other.id_ = H5I_INVALID_HID;
        }
        return *this;
    }
    Hid(const Hid&) = delete;
    Hid& operator=(const Hid&) = delete;

    hid_t get() const noexcept { return id_; }
    bool valid() const noexcept { return id_ >= 0; }

    // Closes now and reports HDF5's status (negative on failure); the id is released either way.
    herr_t close() noexcept {
        if (id_ < 0) return 0;
        herr_t status = closer_ ? closer_(id_) : 0;
        id_ = H5I_INVALID_HID;
        return status;
    }
    void reset() noexcept { (void)close(); }

private:
    hid_t id_ = H5I_INVALID_HID;
    Closer closer_ = nullptr;
};

// While alive, HDF5 prints nothing for failures on this thread (the previous automatic error
// handler is restored afterwards). Every public store entry point holds one.
class QuietErrors {
public:
    QuietErrors() noexcept;
    ~QuietErrors();
    QuietErrors(const QuietErrors&) = delete;
    QuietErrors& operator=(const QuietErrors&) = delete;

private:
    H5E_auto2_t func_ = nullptr;
    void* data_ = nullptr;
    bool saved_ = false;
};

// HDF5's error stack of the current thread as one line ("unable to open file: ..."); empty if
// the stack is empty. Call it immediately after the failing HDF5 call, before any other one.
std::string error_stack();

// Which exception a failure turns into: IoError (writing) or FormatError (reading a file).
enum class FailKind { io, format };

// Throws IoError/FormatError naming `file`, saying `what` failed, with HDF5's own explanation.
[[noreturn]] void fail(FailKind kind, const std::string& file, const std::string& what);

// Checks an HDF5 return value (negative = failure) and fails with `what` otherwise.
inline hid_t check(hid_t id, FailKind kind, const std::string& file, const std::string& what) {
    if (id < 0) fail(kind, file, what);
    return id;
}

// Canonical absolute object path: "logits" -> "/logits", "/a/b.c" -> "/a/b.c". Throws
// UsageError for empty names, empty components ("a//b", trailing "/"), "." or "..", NUL bytes.
// "/" (the root group) is accepted only when allow_root.
std::string normalize_object_path(const std::string& name, bool allow_root);

// Components of a normalized path ("/a/b" -> {"a", "b"}; "/" -> {}).
std::vector<std::string> path_components(const std::string& normalized);

enum class ObjectKind { missing, group, dataset, other, parent_not_group };

struct ObjectLookup {
    ObjectKind kind = ObjectKind::missing;
    std::string blocker;  // for parent_not_group: the ancestor that is not a group
};

// What sits at a normalized path in the open file `loc`, following the path one component at a
// time so that a missing or non-group ancestor is reported rather than raising an HDF5 error.
ObjectLookup lookup_object(hid_t loc, const std::string& normalized, FailKind kind, const std::string& file);

// Version differences of the C API (1.10 here; 1.12+ renamed two calls).
inline htri_t is_hdf5_file(const char* path) {
#if H5_VERSION_GE(1, 12, 0)
    return H5Fis_accessible(path, H5P_DEFAULT);
#else
    return H5Fis_hdf5(path);
#endif
}
inline herr_t reclaim_vlen(hid_t type, hid_t space, void* buffer) {
#if H5_VERSION_GE(1, 12, 0)
    return H5Treclaim(type, space, H5P_DEFAULT, buffer);
#else
    return H5Dvlen_reclaim(type, space, H5P_DEFAULT, buffer);
#endif
}

// A human description of an HDF5 datatype: "32-bit float", "16-bit unsigned integer", ...
std::string describe_type(hid_t type);

}  // namespace headscope::store
