// The HDF5 results reader (read_results_file, as `headscope report FILE.h5` reads it).
// libhdf5 itself is not instrumented, so flipping raw bytes of an .h5 mostly tests libhdf5;
// this harness instead keeps the container valid and fuzzes what headscope reads from it. A
// results file written by write_results_file (every item kind) is copied through the
// ActivationStoreWriter with the edits the input describes — replace or delete any attribute
// (JSON-valued ones included: labels, lengths, nodes, rows...), retype or reshape any dataset —
// and the copy is read back.
//
// Input: records of [op][object][key-or-type][n][n bytes]; selectors index the sample's objects
// and attribute keys (modulo their count).
#include <filesystem>
#include <map>
#include <set>

#include "fuzz_support.hpp"
#include "headscope/activation_store.hpp"
#include "headscope/error.hpp"
#include "headscope/sdk/result_store.hpp"
#include "unit/test_report_sample.hpp"

namespace {

using namespace headscope;

struct Dataset {
    std::vector<int64_t> shape;
    ElementType type = ElementType::f64;
    std::vector<double> values;
};

struct Sample {
    std::vector<std::string> objects;  // "/" and every group and dataset
    std::vector<std::string> keys;     // every attribute key that occurs
    std::map<std::string, Dataset> datasets;
    std::map<std::string, std::map<std::string, AttributeValue>> attributes;
};

const Sample& sample() {
    static const Sample s = [] {
        Sample out;
        const std::string path = fuzz::scratch_dir() + "/sample.h5";
        write_results_file(path, test::sample_results(3));
        ActivationStoreReader r(path);
        std::set<std::string> objects{"/"}, keys;
        for (const DatasetInfo& d : r.datasets()) {
            Dataset copy;
            copy.shape = d.shape;
            copy.type = d.type;
            if (d.type == ElementType::i64) {
                for (int64_t v : r.read_i64(d.name)) copy.values.push_back(static_cast<double>(v));
            } else {
                copy.values = r.read_f64(d.name);
            }
            out.datasets[d.name] = copy;
            objects.insert(d.name);
            for (size_t slash = d.name.find('/', 1); slash != std::string::npos; slash = d.name.find('/', slash + 1))
                objects.insert(d.name.substr(0, slash));
        }
        for (const std::string& o : objects) {
            out.attributes[o] = r.attributes(o);
            for (const auto& [k, v] : out.attributes[o]) keys.insert(k);
        }
        out.objects.assign(objects.begin(), objects.end());
        out.keys.assign(keys.begin(), keys.end());
        std::filesystem::remove(path);
        return out;
    }();
    return s;
}

void write_dataset(ActivationStoreWriter& w, const std::string& name, const Dataset& d) {
    int64_t n = 1;
    for (int64_t x : d.shape) n *= x;
    const size_t count = static_cast<size_t>(n);
    if (d.type == ElementType::i64) {
        std::vector<int64_t> v(count);
        for (size_t i = 0; i < count && i < d.values.size(); ++i) v[i] = static_cast<int64_t>(d.values[i]);
        w.write_i64(name, d.shape, v.data());
    } else if (d.type == ElementType::f32) {
        std::vector<float> v(count);
        for (size_t i = 0; i < count && i < d.values.size(); ++i) v[i] = static_cast<float>(d.values[i]);
        w.write_f32(name, d.shape, v.data());
    } else {
        std::vector<double> v(count);
        for (size_t i = 0; i < count && i < d.values.size(); ++i) v[i] = d.values[i];
        w.write_f64(name, d.shape, v.data());
    }
}

}  // namespace

HEADSCOPE_FUZZ_TARGET {
    const Sample& base = sample();
    std::map<std::string, Dataset> datasets = base.datasets;
    auto attributes = base.attributes;
    for (size_t at = 0; at + 4 <= size;) {
        const uint8_t op = data[at], object = data[at + 1], selector = data[at + 2];
        const size_t n = std::min<size_t>(data[at + 3], size - at - 4);
        const std::string bytes(reinterpret_cast<const char*>(data + at + 4), n);
        at += 4 + n;
        const std::string& target = base.objects[object % base.objects.size()];
        const std::string& key = base.keys[selector % base.keys.size()];
        switch (op % 5) {
            case 0: attributes[target][key] = bytes; break;
            case 1: {
                int64_t v = 0;
                for (size_t i = 0; i < n && i < 8; ++i) v |= int64_t{static_cast<uint8_t>(bytes[i])} << (8 * i);
                attributes[target][key] = v;
                break;
            }
            case 2: attributes[target].erase(key); break;
            case 3: {  // reshape / retype a dataset; its values come from the bytes
                auto it = datasets.find(target);
                if (it == datasets.end()) break;
                Dataset& d = it->second;
                d.type = static_cast<ElementType>(selector % 3);
                d.shape.clear();
                for (size_t i = 0; i < n % 4 && i < n; ++i) d.shape.push_back(static_cast<uint8_t>(bytes[i]) % 9);
                d.values.clear();
                for (char c : bytes) d.values.push_back(static_cast<int8_t>(c));
                break;
            }
            default: datasets.erase(target); break;
        }
    }
    const std::string path = fuzz::scratch_dir() + "/results.h5";
    try {  // edits the writer itself refuses (text that is not UTF-8...) make no file to read
        ActivationStoreWriter w(path);
        for (const auto& [name, d] : datasets) write_dataset(w, name, d);
        for (const auto& [object, attrs] : attributes) {
            if (object != "/" && !datasets.count(object)) {
                // A group exists only while some dataset below it does.
                bool has_child = false;
                for (const auto& [name, d] : datasets) has_child |= name.rfind(object + "/", 0) == 0;
                if (!has_child) continue;
            }
            for (const auto& [key, value] : attrs) w.set_attribute(object, key, value);
        }
        w.commit();
    } catch (const headscope::Error&) {
        return 0;
    }
    fuzz::expect_clean(path, [&] { (void)read_results_file(path); });
    return 0;
}
