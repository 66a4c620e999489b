// ActivationStore: activations, logits and tokens in an HDF5 file that h5py opens with no
// headscope code. One dataset per name (chunked, gzip-compressed), metadata as attributes.
// Torch-free: data goes in and out as typed buffers.
//
// Writes are atomic: an ActivationStoreWriter writes "<path>.tmp-<pid>-<n>" and renames it to
// <path> in commit(); a writer destroyed without commit() deletes its temporary file, so an
// interrupted run never leaves a half file under the final name.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace headscope {

using AttributeValue = std::variant<std::string, int64_t, double>;

enum class ElementType { f32, i64, f64 };

class ActivationStoreWriter {
public:
    // Opens a temporary file next to `path`. Throws IoError.
    explicit ActivationStoreWriter(std::string path);
    ~ActivationStoreWriter();
    ActivationStoreWriter(const ActivationStoreWriter&) = delete;
    ActivationStoreWriter& operator=(const ActivationStoreWriter&) = delete;

    // Attributes on the root group ("/") or on a dataset/group path already written.
    void set_attribute(const std::string& object, const std::string& key, const AttributeValue& value);
    // Writes a whole dataset; intermediate groups ("/activations/...") are created. Names may
    // contain dots (hook names are used verbatim as dataset names).
    void write_f32(const std::string& dataset, const std::vector<int64_t>& shape, const float* data);
    void write_i64(const std::string& dataset, const std::vector<int64_t>& shape, const int64_t* data);
    void write_f64(const std::string& dataset, const std::vector<int64_t>& shape, const double* data);
    // Flushes, closes and renames the temporary file to the final path.
    void commit();
    const std::string& path() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

struct DatasetInfo {
    std::string name;  // full path, e.g. "/activations/blocks.0.attn.hook_pattern"
    std::vector<int64_t> shape;
    ElementType type = ElementType::f32;
};

// Reads lazily: opening lists datasets; data is read on request (whole or a hyperslab).
class ActivationStoreReader {
public:
    explicit ActivationStoreReader(const std::string& path);  // throws FormatError/IoError
    ~ActivationStoreReader();
    ActivationStoreReader(const ActivationStoreReader&) = delete;
    ActivationStoreReader& operator=(const ActivationStoreReader&) = delete;

    std::vector<DatasetInfo> datasets() const;  // every dataset in the file, recursively
    bool has(const std::string& dataset) const;
    DatasetInfo info(const std::string& dataset) const;
    std::vector<float> read_f32(const std::string& dataset) const;
    std::vector<int64_t> read_i64(const std::string& dataset) const;
    // Any floating-point dataset (f32 or f64), converted to double.
    std::vector<double> read_f64(const std::string& dataset) const;
    // Hyperslab: start/count per dimension (count == -1: to the end).
    std::vector<float> read_f32(const std::string& dataset, const std::vector<int64_t>& start,
                                const std::vector<int64_t>& count) const;
    std::map<std::string, AttributeValue> attributes(const std::string& object) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace headscope
