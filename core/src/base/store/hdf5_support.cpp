#include "store/hdf5_support.hpp"

#include <fmt/format.h>

#include "headscope/error.hpp"

namespace headscope::store {

QuietErrors::QuietErrors() noexcept {
    saved_ = H5Eget_auto2(H5E_DEFAULT, &func_, &data_) >= 0;
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

QuietErrors::~QuietErrors() {
    if (saved_) H5Eset_auto2(H5E_DEFAULT, func_, data_);
}

namespace {

herr_t collect_error(unsigned /*n*/, const H5E_error2_t* err, void* client) {
    auto* lines = static_cast<std::vector<std::string>*>(client);
    if (err && err->desc && *err->desc) {
        std::string line;
        for (const char* c = err->desc; *c; ++c) {  // one line: HDF5 embeds ctime()'s newline
            char ch = (*c == '\n' || *c == '\r' || *c == '\t') ? ' ' : *c;
            if (ch != ' ' || (!line.empty() && line.back() != ' ')) line += ch;
        }
        while (!line.empty() && line.back() == ' ') line.pop_back();
        if (line.empty()) return 0;
        if (lines->empty() || lines->back() != line) lines->push_back(std::move(line));
    }
    return 0;
}

}  // namespace

std::string error_stack() {
    std::vector<std::string> lines;
    // H5Ewalk2 does not clear the stack it walks; from the API call down to the root cause.
    if (H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, collect_error, &lines) < 0) return {};
    constexpr size_t kMaxLines = 6;  // deeper frames rarely add information
    if (lines.size() > kMaxLines) {
        lines.erase(lines.begin() + 2, lines.end() - static_cast<std::ptrdiff_t>(kMaxLines - 2));
    }
    std::string joined;
    for (const auto& line : lines) joined += (joined.empty() ? "" : ": ") + line;
    return joined;
}

void fail(FailKind kind, const std::string& file, const std::string& what) {
    std::string stack = error_stack();
    std::string problem = stack.empty() ? what : what + " (HDF5: " + stack + ")";
    if (kind == FailKind::format) throw FormatError(file, problem);
    throw IoError(file + ": " + problem);
}

std::string normalize_object_path(const std::string& name, bool allow_root) {
    if (name.find('\0') != std::string::npos) {
        throw UsageError("HDF5 object name contains a NUL byte");
    }
    if (name.empty()) throw UsageError("empty HDF5 object name (expected e.g. \"/logits\")");
    if (name == "/") {
        if (allow_root) return name;
        throw UsageError("\"/\" is the root group, not a dataset name (expected e.g. \"/logits\")");
    }
    std::string out = name.front() == '/' ? name : "/" + name;
    for (const auto& part : path_components(out)) {
        if (part.empty() || part == "." || part == "..") {
            throw UsageError(fmt::format(
                "invalid HDF5 object name '{}': components must be non-empty and not '.' or '..'",
                name));
        }
    }
    return out;
}

std::vector<std::string> path_components(const std::string& normalized) {
    std::vector<std::string> parts;
    if (normalized.size() <= 1) return parts;
    size_t begin = 1;
    while (true) {
        size_t end = normalized.find('/', begin);
        parts.push_back(normalized.substr(begin, end == std::string::npos ? std::string::npos : end - begin));
        if (end == std::string::npos) break;
        begin = end + 1;
    }
    return parts;
}

ObjectLookup lookup_object(hid_t loc, const std::string& normalized, FailKind kind, const std::string& file) {
    if (normalized == "/") return {ObjectKind::group, {}};
    std::vector<std::string> parts = path_components(normalized);
    std::string prefix;
    for (size_t i = 0; i < parts.size(); ++i) {
        prefix += "/" + parts[i];
        htri_t link = H5Lexists(loc, prefix.c_str(), H5P_DEFAULT);
        if (link < 0) fail(kind, file, fmt::format("cannot look up '{}'", prefix));
        if (link == 0) return {ObjectKind::missing, {}};
        htri_t target = H5Oexists_by_name(loc, prefix.c_str(), H5P_DEFAULT);
        if (target <= 0) return {ObjectKind::missing, {}};  // dangling soft or external link
        Hid obj(H5Oopen(loc, prefix.c_str(), H5P_DEFAULT), H5Oclose);
        check(obj.get(), kind, file, fmt::format("cannot open object '{}'", prefix));
        H5I_type_t type = H5Iget_type(obj.get());
        bool last = i + 1 == parts.size();
        if (last) {
            if (type == H5I_GROUP) return {ObjectKind::group, {}};
            if (type == H5I_DATASET) return {ObjectKind::dataset, {}};
            return {ObjectKind::other, {}};
        }
        if (type != H5I_GROUP) return {ObjectKind::parent_not_group, prefix};
    }
    return {ObjectKind::missing, {}};
}

std::string describe_type(hid_t type) {
    size_t bits = H5Tget_size(type) * 8;
    switch (H5Tget_class(type)) {
        case H5T_INTEGER:
            return fmt::format("{}-bit {} integer", bits, H5Tget_sign(type) == H5T_SGN_NONE ? "unsigned" : "signed");
        case H5T_FLOAT: return fmt::format("{}-bit float", bits);
        case H5T_STRING: return H5Tis_variable_str(type) > 0 ? "variable-length string" : "fixed-length string";
        case H5T_TIME: return "time";
        case H5T_BITFIELD: return fmt::format("{}-bit bitfield", bits);
        case H5T_OPAQUE: return "opaque";
        case H5T_COMPOUND: return "compound";
        case H5T_REFERENCE: return "reference";
        case H5T_ENUM: return "enum (e.g. a numpy bool)";
        case H5T_VLEN: return "variable-length sequence";
        case H5T_ARRAY: return "array";
        default: return "unknown type";
    }
}

}  // namespace headscope::store
