// A small GGUF encoder for the reader's tests. It writes exactly the bytes it is told to —
// including wrong counts, magic, versions, offsets and type ids — so each test can build the
// one defect it is about. Written from the GGUF specification, independent of the reader.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace headscope::test::gguf {

// GGUF metadata value type ids and the ggml tensor type ids the tests use.
enum : uint32_t {
    kGgufU8 = 0,
    kGgufI8 = 1,
    kGgufU16 = 2,
    kGgufI16 = 3,
    kGgufU32 = 4,
    kGgufI32 = 5,
    kGgufF32 = 6,
    kGgufBool = 7,
    kGgufString = 8,
    kGgufArray = 9,
    kGgufU64 = 10,
    kGgufI64 = 11,
    kGgufF64 = 12
};
enum : uint32_t { kGgmlF32 = 0, kGgmlF16 = 1, kGgmlQ4_0 = 2, kGgmlQ4_1 = 3, kGgmlQ8_0 = 8, kGgmlBf16 = 30 };

inline std::string le_bytes(uint64_t v, int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
    return out;
}
inline std::string le_u32(uint32_t v) { return le_bytes(v, 4); }
inline std::string le_u64(uint64_t v) { return le_bytes(v, 8); }
inline std::string le_f32(float f) {
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    return le_u32(bits);
}
inline std::string f32_bytes(const std::vector<float>& values) {
    std::string out;
    for (float v : values) out += le_f32(v);
    return out;
}

class GgufBuilder {
public:
    explicit GgufBuilder(uint32_t version = 3) : version(version) {}

    // Knobs for malformed files.
    uint32_t version;
    std::string magic = "GGUF";
    std::optional<uint64_t> tensor_count;  // default: the number of tensors added
    std::optional<uint64_t> kv_count;      // default: the number of entries added
    uint64_t alignment = 32;               // how data is laid out (add general.alignment yourself)

    std::string count(uint64_t n) const {
        return version == 1 ? le_u32(static_cast<uint32_t>(n)) : le_u64(n);
    }
    std::string str(std::string_view s) const { return count(s.size()) + std::string(s); }

    GgufBuilder& kv(std::string_view key, uint32_t type, const std::string& value_bytes) {
        entries_ += str(key) + le_u32(type) + value_bytes;
        ++n_kv_;
        return *this;
    }
    GgufBuilder& kv_string(std::string_view key, std::string_view v) { return kv(key, kGgufString, str(v)); }
    GgufBuilder& kv_u32(std::string_view key, uint32_t v) { return kv(key, kGgufU32, le_u32(v)); }
    GgufBuilder& kv_i32(std::string_view key, int32_t v) {
        return kv(key, kGgufI32, le_u32(static_cast<uint32_t>(v)));
    }
    GgufBuilder& kv_u64(std::string_view key, uint64_t v) { return kv(key, kGgufU64, le_u64(v)); }
    GgufBuilder& kv_f32(std::string_view key, float v) { return kv(key, kGgufF32, le_f32(v)); }
    GgufBuilder& kv_bool(std::string_view key, bool v) {
        return kv(key, kGgufBool, std::string(1, v ? '\1' : '\0'));
    }
    GgufBuilder& kv_strings(std::string_view key, const std::vector<std::string>& v) {
        std::string bytes = le_u32(kGgufString) + count(v.size());
        for (const auto& s : v) bytes += str(s);
        return kv(key, kGgufArray, bytes);
    }
    GgufBuilder& kv_f32s(std::string_view key, const std::vector<float>& v) {
        return kv(key, kGgufArray, le_u32(kGgufF32) + count(v.size()) + f32_bytes(v));
    }
    GgufBuilder& kv_i32s(std::string_view key, const std::vector<int32_t>& v) {
        std::string bytes = le_u32(kGgufI32) + count(v.size());
        for (int32_t x : v) bytes += le_u32(static_cast<uint32_t>(x));
        return kv(key, kGgufArray, bytes);
    }

    // ne lists dimensions fastest first, as GGUF stores them. Without an explicit offset the
    // tensor is placed after the previous one at the next aligned position.
    GgufBuilder& tensor(std::string name, std::vector<uint64_t> ne, uint32_t type, std::string data,
                        std::optional<uint64_t> offset = std::nullopt) {
        tensors_.push_back({std::move(name), std::move(ne), type, std::move(data), offset});
        return *this;
    }
    GgufBuilder& f32_tensor(std::string name, std::vector<uint64_t> ne, const std::vector<float>& values) {
        return tensor(std::move(name), std::move(ne), kGgmlF32, f32_bytes(values));
    }

    std::string build() const {
        std::string out = magic + le_u32(version) + count(tensor_count.value_or(tensors_.size())) +
                          count(kv_count.value_or(n_kv_)) + entries_;
        std::vector<uint64_t> offsets;
        uint64_t cursor = 0;
        for (const auto& t : tensors_) {
            cursor = align(cursor);
            offsets.push_back(t.offset.value_or(cursor));
            if (!t.offset) cursor += t.data.size();
            out += str(t.name) + le_u32(static_cast<uint32_t>(t.ne.size()));
            for (uint64_t d : t.ne) out += count(d);
            out += le_u32(t.type) + le_u64(offsets.back());
        }
        out.resize(align(out.size()), '\0');
        const size_t data_start = out.size();
        for (size_t i = 0; i < tensors_.size(); ++i) {
            const auto& t = tensors_[i];
            if (t.data.empty()) continue;
            const size_t at = data_start + offsets[i];
            if (out.size() < at + t.data.size()) out.resize(at + t.data.size(), '\0');
            out.replace(at, t.data.size(), t.data);
        }
        return out;
    }

private:
    struct Tensor {
        std::string name;
        std::vector<uint64_t> ne;
        uint32_t type;
        std::string data;
        std::optional<uint64_t> offset;
    };
    uint64_t align(uint64_t n) const { return (n + alignment - 1) / alignment * alignment; }

    std::string entries_;
    uint64_t n_kv_ = 0;
    std::vector<Tensor> tensors_;
};

// A complete tiny llama: d_model 8, 2 heads of 4, 1 kv head, 1 layer, d_mlp 16, 4 tokens.
// Keys listed in `skip` are left out, so tests can remove one required key at a time.
inline GgufBuilder tiny_llama(uint32_t version, const std::vector<std::string>& skip = {}) {
    GgufBuilder b(version);
    auto want = [&](const std::string& key) {
        for (const auto& s : skip)
            if (s == key) return false;
        return true;
    };
    if (want("general.architecture")) b.kv_string("general.architecture", "llama");
    if (want("llama.context_length")) b.kv_u32("llama.context_length", 32);
    if (want("llama.embedding_length")) b.kv_u32("llama.embedding_length", 8);
    if (want("llama.block_count")) b.kv_u32("llama.block_count", 1);
    if (want("llama.feed_forward_length")) b.kv_u32("llama.feed_forward_length", 16);
    if (want("llama.attention.head_count")) b.kv_u32("llama.attention.head_count", 2);
    if (want("llama.attention.head_count_kv")) b.kv_u32("llama.attention.head_count_kv", 1);
    if (want("llama.attention.layer_norm_rms_epsilon"))
        b.kv_f32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
    if (want("tokenizer.ggml.model")) b.kv_string("tokenizer.ggml.model", "llama");
    if (want("tokenizer.ggml.tokens"))
        b.kv_strings("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "\xE2\x96\x81hi"});
    if (want("tokenizer.ggml.scores")) b.kv_f32s("tokenizer.ggml.scores", {0.f, 0.f, 0.f, -1.f});
    if (want("tokenizer.ggml.token_type")) b.kv_i32s("tokenizer.ggml.token_type", {2, 3, 3, 1});
    std::vector<float> embedding(4 * 8);
    for (size_t i = 0; i < embedding.size(); ++i) embedding[i] = static_cast<float>(i);
    b.f32_tensor("token_embd.weight", {8, 4}, embedding);
    b.f32_tensor("output_norm.weight", {8}, std::vector<float>(8, 1.f));
    return b;
}

}  // namespace headscope::test::gguf
