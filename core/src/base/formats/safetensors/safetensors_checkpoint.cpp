// SafetensorsCheckpoint: finds a Hugging Face model directory's safetensors weights (one file or
// index + shards), refuses pickle-only directories, and serves all tensors as one source.
#include "headscope/formats/safetensors_file.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <unordered_map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "formats/safetensors/pickle_advice.hpp"
#include "formats/safetensors/read_only_file.hpp"
#include "formats/safetensors/st_reader.hpp"
#include "headscope/error.hpp"
#include "json/json_file.hpp"

namespace headscope {

namespace fs = std::filesystem;

namespace {

constexpr const char* kSingleName = "model.safetensors";
constexpr const char* kIndexName = "model.safetensors.index.json";
constexpr uint64_t kMaxIndexBytes = 100'000'000;

bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool regular_file_exists(const fs::path& p) {
    std::error_code ec;
    return fs::is_regular_file(p, ec);
}

std::string join_names(const std::vector<std::string>& names, size_t limit = 5) {
    std::string out;
    for (size_t i = 0; i < names.size() && i < limit; ++i) out += (i ? ", " : "") + names[i];
    if (names.size() > limit) out += fmt::format(" and {} more", names.size() - limit);
    return out;
}

// A directory with no safetensors weights: say what is there instead and what to do.
[[noreturn]] void refuse_directory(const std::string& dir) {
    std::vector<std::string> pickles, safetensors, gguf, other_formats;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (!regular_file_exists(it->path())) continue;
        if (st::is_pickle_weights_name(name)) pickles.push_back(name);
        else if (ends_with(name, ".safetensors")) safetensors.push_back(name);
        else if (ends_with(name, ".gguf")) gguf.push_back(name);
        else if (name == "tf_model.h5" || name == "flax_model.msgpack") other_formats.push_back(name);
    }
    if (ec) throw IoError(fmt::format("{}: cannot list directory: {}", dir, ec.message()));
    for (auto* v : {&pickles, &safetensors, &gguf, &other_formats}) std::sort(v->begin(), v->end());

    if (!safetensors.empty())
        throw FormatError(dir, fmt::format("no {} and no {}; found {} — shards need their index "
                                           "file, or pass a single .safetensors file directly",
                                           kSingleName, kIndexName, join_names(safetensors)));
    if (!pickles.empty())
        throw FormatError(dir, fmt::format("holds only pickle weights ({}) and no safetensors. {}",
                                           join_names(pickles), st::pickle_refusal_advice()));
    if (!gguf.empty())
        throw FormatError(dir, fmt::format("holds no safetensors weights but a GGUF file ({}); open "
                                           "that file directly", join_names(gguf)));
    if (!other_formats.empty())
        throw FormatError(dir, fmt::format("holds only TensorFlow/Flax weights ({}); convert them to "
                                           "safetensors with transformers' save_pretrained(dir, "
                                           "safe_serialization=True)", join_names(other_formats)));
    throw FormatError(dir, fmt::format("no model weights found: expected {}, or {} with its shards",
                                       kSingleName, kIndexName));
}

// Shard names in an index are file names next to it; anything else could read outside the model.
void check_shard_name(const std::string& index, const std::string& tensor, const std::string& shard) {
    auto refuse = [&](const std::string& why) {
        throw FormatError(index, fmt::format("weight_map entry for tensor '{}' names shard \"{}\", "
                                             "which {}; shards must be plain file names in the model "
                                             "directory",
                                             tensor, shard, why));
    };
    if (shard.empty()) refuse("is empty");
    if (shard.find('\0') != std::string::npos) refuse("contains a NUL byte");
    if (shard.front() == '/' || shard.front() == '\\') refuse("is an absolute path");
    bool separator = false, parent = false;
    for (size_t begin = 0; begin <= shard.size();) {
        size_t end = shard.find_first_of("/\\", begin);
        if (end == std::string::npos) end = shard.size();
        else separator = true;
        if (shard.compare(begin, end - begin, "..") == 0) parent = true;
        begin = end + 1;
    }
    if (parent) refuse("leaves the model directory");
    if (separator) refuse("contains a path separator");
    if (shard == ".") refuse("is not a file name");
}

std::string read_index_text(const std::string& index) {
    st::ReadOnlyFile file(index);
    if (file.size() > kMaxIndexBytes)
        throw FormatError(index, fmt::format("index is {} bytes, over the {}-byte limit", file.size(),
                                             kMaxIndexBytes));
    std::string text(static_cast<size_t>(file.size()), '\0');
    file.read_exact(0, text.data(), text.size(), "the index");
    return text;
}

}  // namespace

struct SafetensorsCheckpoint::Impl {
    std::string path;
    std::vector<std::unique_ptr<st::Reader>> shards;
    std::vector<TensorInfo> tensors;
    std::unordered_map<std::string, size_t> shard_of;  // tensor name -> shard (incl. unconvertible)

    void open_single(const std::string& file) {
        shards.push_back(std::make_unique<st::Reader>(file));
        tensors = shards.front()->tensors();
        for (const auto& t : tensors) shard_of.emplace(t.name, 0);
    }

    void open_index(const std::string& index, const fs::path& dir);
};

void SafetensorsCheckpoint::Impl::open_index(const std::string& index, const fs::path& dir) {
    const nlohmann::json root = json_file::parse(read_index_text(index), index);
    if (!root.is_object())
        throw FormatError(index, fmt::format("is a JSON {}, expected an object with \"weight_map\"",
                                             root.type_name()));
    auto wm = root.find("weight_map");
    if (wm == root.end() || !wm->is_object())
        throw FormatError(index, "has no \"weight_map\" object mapping tensor names to shard files");
    if (wm->empty()) throw FormatError(index, "\"weight_map\" lists no tensors");

    // Validate every entry, then make sure every shard exists before opening any.
    std::map<std::string, std::vector<std::string>> tensors_of;  // shard -> tensors, sorted
    for (auto it = wm->begin(); it != wm->end(); ++it) {
        if (!it.value().is_string())
            throw FormatError(index, fmt::format("weight_map entry for tensor '{}' is a JSON {}, "
                                                 "expected a shard file name",
                                                 it.key(), it.value().type_name()));
        const auto& shard = it.value().get_ref<const std::string&>();
        check_shard_name(index, it.key(), shard);
        tensors_of[shard].push_back(it.key());
    }
    for (const auto& [shard, names] : tensors_of) {
        const fs::path file = dir / shard;
        if (!regular_file_exists(file))
            throw FormatError(index, fmt::format("shard \"{}\" (holding {}) does not exist in {}",
                                                 shard, join_names(names, 3), dir.string()));
    }

    for (const auto& [shard, names] : tensors_of) {
        const size_t id = shards.size();
        shards.push_back(std::make_unique<st::Reader>((dir / shard).string()));
        const st::Reader& reader = *shards.back();
        for (const auto& name : names) {
            if (const TensorInfo* t = reader.find(name)) {
                tensors.push_back(*t);
            } else if (!reader.unsupported_dtype(name)) {
                throw FormatError(reader.path(), fmt::format("tensor '{}' is listed for this shard "
                                                             "in {} but the shard does not contain it",
                                                             name, index));
            }
            shard_of.emplace(name, id);
        }
    }
    // Shard by shard, in file order: reading the tensors in this order streams each file.
    std::stable_sort(tensors.begin(), tensors.end(), [&](const TensorInfo& a, const TensorInfo& b) {
        size_t sa = shard_of.at(a.name), sb = shard_of.at(b.name);
        return sa != sb ? sa < sb : a.offset < b.offset;
    });
}

SafetensorsCheckpoint::SafetensorsCheckpoint(std::string directory) : impl_(std::make_unique<Impl>()) {
    impl_->path = std::move(directory);
    const std::string& path = impl_->path;
    std::error_code ec;
    const fs::file_status status = fs::status(path, ec);
    if (ec || !fs::exists(status))
        throw IoError(fmt::format("{}: no such file or directory (expected a model directory "
                                  "holding {})", path, kSingleName));

    if (fs::is_regular_file(status)) {
        const std::string name = fs::path(path).filename().string();
        if (st::is_pickle_weights_name(name)) throw FormatError(path, st::pickle_refusal_advice());
        if (ends_with(name, ".safetensors.index.json")) {
            fs::path parent = fs::path(path).parent_path();
            impl_->open_index(path, parent.empty() ? fs::path(".") : parent);
        } else {
            impl_->open_single(path);
        }
        return;
    }
    if (!fs::is_directory(status))
        throw FormatError(path, "is neither a model directory nor a .safetensors file");

    const fs::path dir(path);
    if (regular_file_exists(dir / kSingleName))
        impl_->open_single((dir / kSingleName).string());
    else if (regular_file_exists(dir / kIndexName))
        impl_->open_index((dir / kIndexName).string(), dir);
    else
        refuse_directory(path);
}

SafetensorsCheckpoint::~SafetensorsCheckpoint() = default;

const std::string& SafetensorsCheckpoint::path() const { return impl_->path; }
const std::vector<TensorInfo>& SafetensorsCheckpoint::tensors() const { return impl_->tensors; }

void SafetensorsCheckpoint::read_f32(const TensorInfo& info, float* dst) const {
    auto it = impl_->shard_of.find(info.name);
    if (it == impl_->shard_of.end()) {
        // A single file also knows the tensors it holds but cannot convert; let it explain.
        if (impl_->shards.size() == 1) impl_->shards.front()->read_f32(info, dst);
        throw UsageError(fmt::format("{}: no tensor named '{}'", impl_->path, info.name));
    }
    impl_->shards[it->second]->read_f32(info, dst);
}

MappedBytes SafetensorsCheckpoint::mapped(const TensorInfo& info) const {
    auto it = impl_->shard_of.find(info.name);
    if (it == impl_->shard_of.end()) {
        if (impl_->shards.size() == 1) return impl_->shards.front()->mapped(info);
        throw UsageError(fmt::format("{}: no tensor named '{}'", impl_->path, info.name));
    }
    return impl_->shards[it->second]->mapped(info);
}

}  // namespace headscope
