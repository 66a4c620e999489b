// Llama2cFile: Karpathy's llama2.c checkpoint ("version 0", the format run.c reads).
// Layout, all little-endian: 7 x int32 header, then float32 arrays in this order —
//   token_embedding_table [vocab, dim]
//   rms_att_weight [layers, dim]
//   wq [layers, n_heads*head_size, dim], wk and wv [layers, n_kv_heads*head_size, dim],
//   wo [layers, dim, n_heads*head_size]
//   rms_ffn_weight [layers, dim]
//   w1 [layers, hidden, dim], w2 [layers, dim, hidden], w3 [layers, hidden, dim]
//   rms_final_weight [dim]
//   freq_cis_real, freq_cis_imag [seq_len, head_size/2] each (unused: rotary is recomputed)
//   wcls [vocab, dim] — only when the header's vocab_size is negative (untied classifier).
// Matrices are [out, in] row-major, as torch.nn.Linear stores them.
#include "headscope/formats/llama2c_file.hpp"

#include <climits>
#include <cstdint>

#include <fmt/format.h>

#include "formats/binary_reader.hpp"
#include "formats/checked_math.hpp"
#include "formats/dequantize.hpp"
#include "formats/mapped_file.hpp"
#include "formats/tensor_lookup.hpp"
#include "headscope/error.hpp"

namespace headscope {

namespace {
constexpr uint64_t kHeaderBytes = 7 * sizeof(int32_t);
constexpr uint32_t kExportMagic = 0x616b3432;  // "ak42": llama2.c export.py versions 1 and 2
constexpr uint64_t kFloatBytes = sizeof(float);

std::string describe(const Llama2cHeader& h) {
    return fmt::format(
        "dim={}, hidden_dim={}, n_layers={}, n_heads={}, n_kv_heads={}, vocab_size={}{}, seq_len={}", h.dim,
        h.hidden_dim, h.n_layers, h.n_heads, h.n_kv_heads, h.vocab_size,
        h.shared_classifier ? "" : " (untied classifier)", h.seq_len);
}

// Lays tensors out one after another from the end of the header, with checked arithmetic.
class LayoutBuilder {
public:
    LayoutBuilder(const std::string& path, const Llama2cHeader& h) : path_(path), header_(h) {}

    void add(std::string name, std::vector<int64_t> shape) {
        uint64_t numel = 1;
        for (int64_t d : shape) multiply(numel, static_cast<uint64_t>(d), &numel);
        TensorInfo t;
        t.name = std::move(name);
        t.shape = std::move(shape);
        t.type = StorageType::f32;
        t.offset = cursor_;
        multiply(numel, kFloatBytes, &t.nbytes);
        advance(t.nbytes);
        tensors_.push_back(std::move(t));
    }
    void skip_floats(uint64_t count) {
        uint64_t bytes = 0;
        multiply(count, kFloatBytes, &bytes);
        advance(bytes);
    }
    uint64_t end() const { return cursor_; }
    std::vector<TensorInfo> take() { return std::move(tensors_); }

private:
    void multiply(uint64_t a, uint64_t b, uint64_t* out) const {
        if (!formats::checked_mul(a, b, out)) overflow();
    }
    void advance(uint64_t bytes) {
        if (!formats::checked_add(cursor_, bytes, &cursor_)) overflow();
    }
    [[noreturn]] void overflow() const {
        throw FormatError(
            path_, "the header (" + describe(header_) +
                       ") implies a checkpoint larger than 2^64 bytes; it is not a llama2.c checkpoint");
    }

    const std::string& path_;
    const Llama2cHeader& header_;
    uint64_t cursor_ = kHeaderBytes;
    std::vector<TensorInfo> tensors_;
};
}  // namespace

struct Llama2cFile::Impl {
    std::string path;
    std::shared_ptr<formats::MappedFile> mapping;
    const formats::MappedFile& map;
    Llama2cHeader header;
    std::vector<TensorInfo> tensors;

    explicit Impl(std::string p)
        : path(std::move(p)), mapping(std::make_shared<formats::MappedFile>(path)), map(*mapping) {}

    [[noreturn]] void fail(const std::string& problem) const { throw FormatError(path, problem); }

    void parse() {
        if (map.size() < kHeaderBytes)
            fail(fmt::format(
                "truncated: a llama2.c checkpoint starts with a {}-byte header (7 int32), file has {} bytes",
                kHeaderBytes, map.size()));
        formats::BinaryReader r(map.data(), map.size(), path);
        if (std::string_view(reinterpret_cast<const char*>(map.data()), 4) == "GGUF")
            fail("this is a GGUF file, not a llama2.c checkpoint; open it as GGUF");
        const uint32_t first = r.u32("header");
        if (first == kExportMagic)
            fail(
                fmt::format("this is a llama2.c export.py version {} file (magic \"ak42\"); headscope reads "
                            "the legacy version-0 format that run.c reads (export.py --version 0)",
                            r.i32("export version")));
        Llama2cHeader& h = header;
        h.dim = static_cast<int32_t>(first);
        h.hidden_dim = r.i32("hidden_dim");
        h.n_layers = r.i32("n_layers");
        h.n_heads = r.i32("n_heads");
        h.n_kv_heads = r.i32("n_kv_heads");
        const int32_t vocab = r.i32("vocab_size");
        h.seq_len = r.i32("seq_len");
        validate_header(vocab);
        lay_out();
    }

    void validate_header(int32_t vocab) {
        Llama2cHeader& h = header;
        const std::pair<const char*, int32_t> positive[] = {
            {"dim", h.dim},         {"hidden_dim", h.hidden_dim}, {"n_layers", h.n_layers},
            {"n_heads", h.n_heads}, {"n_kv_heads", h.n_kv_heads}, {"seq_len", h.seq_len}};
        for (const auto& [field, value] : positive)
            if (value <= 0)
                fail(fmt::format(
                    "nonsensical header: {} is {}, expected a positive integer (header: dim={}, "
                    "hidden_dim={}, n_layers={}, n_heads={}, n_kv_heads={}, vocab_size={}, seq_len={})",
                    field, value, h.dim, h.hidden_dim, h.n_layers, h.n_heads, h.n_kv_heads, vocab,
                    h.seq_len));
        if (vocab == 0 || vocab == INT32_MIN)
            fail(
                fmt::format("nonsensical header: vocab_size is {}, expected a non-zero integer (negative "
                            "when the classifier is untied)",
                            vocab));
        h.shared_classifier = vocab > 0;
        h.vocab_size = vocab > 0 ? vocab : -vocab;
        if (h.dim % h.n_heads != 0)
            fail(fmt::format("nonsensical header: dim ({}) is not divisible by n_heads ({})", h.dim,
                             h.n_heads));
        if (h.n_kv_heads > h.n_heads || h.n_heads % h.n_kv_heads != 0)
            fail(fmt::format("nonsensical header: n_kv_heads ({}) does not divide n_heads ({})", h.n_kv_heads,
                             h.n_heads));
        if ((h.dim / h.n_heads) % 2 != 0)
            fail(
                fmt::format("nonsensical header: head size dim/n_heads = {} is odd; rotary embeddings need "
                            "an even head size",
                            h.dim / h.n_heads));
    }

    // The file size the header implies, computed before any tensor is listed (a corrupt header
    // can claim billions of layers; the list is only built once the size matches the file).
    uint64_t expected_size() const {
        const Llama2cHeader& h = header;
        const uint64_t dim = static_cast<uint64_t>(h.dim), hidden = static_cast<uint64_t>(h.hidden_dim);
        const uint64_t vocab = static_cast<uint64_t>(h.vocab_size),
                       layers = static_cast<uint64_t>(h.n_layers);
        const uint64_t head_size = dim / static_cast<uint64_t>(h.n_heads);
        const uint64_t q_dim = static_cast<uint64_t>(h.n_heads) * head_size;
        const uint64_t kv_dim = static_cast<uint64_t>(h.n_kv_heads) * head_size;
        bool ok = true;
        auto mul = [&](uint64_t a, uint64_t b) {
            uint64_t r = 0;
            ok = ok && formats::checked_mul(a, b, &r);
            return r;
        };
        auto add = [&](uint64_t a, uint64_t b) {
            uint64_t r = 0;
            ok = ok && formats::checked_add(a, b, &r);
            return r;
        };
        // Per layer: two norms, wq and wo, wk and wv, w1 w2 w3.
        uint64_t per_layer = add(add(mul(2, dim), mul(2, mul(q_dim, dim))),
                                 add(mul(2, mul(kv_dim, dim)), mul(3, mul(hidden, dim))));
        uint64_t floats = add(mul(vocab, dim), mul(layers, per_layer));
        floats = add(floats, dim);                                                           // rms_final
        floats = add(floats, mul(2, mul(static_cast<uint64_t>(h.seq_len), head_size / 2)));  // freq_cis
        if (!h.shared_classifier) floats = add(floats, mul(vocab, dim));
        const uint64_t bytes = add(kHeaderBytes, mul(floats, kFloatBytes));
        if (!ok)
            fail("the header (" + describe(h) +
                 ") implies a checkpoint larger than 2^64 bytes; it is not a llama2.c checkpoint");
        return bytes;
    }

    void lay_out() {
        const Llama2cHeader& h = header;
        const uint64_t expected = expected_size();
        if (map.size() < expected)
            fail(fmt::format("truncated: expected {} bytes for a checkpoint with {}, file has {} bytes",
                             expected, describe(h), map.size()));
        if (map.size() > expected)
            fail(fmt::format(
                "file has {} bytes but a checkpoint with {} has exactly {}: the header does not describe "
                "this file (a different llama2.c export version, or not a llama2.c checkpoint)",
                map.size(), describe(h), expected));

        const int64_t dim = h.dim, hidden = h.hidden_dim, vocab = h.vocab_size;
        const int64_t head_size = h.dim / h.n_heads;
        const int64_t q_dim = h.n_heads * head_size, kv_dim = h.n_kv_heads * head_size;
        LayoutBuilder b(path, h);
        b.add(llama2c_names::tok_embeddings(), {vocab, dim});
        using Name = std::string (*)(int);
        auto per_layer = [&](Name name, std::vector<int64_t> shape) {
            for (int l = 0; l < h.n_layers; ++l) b.add(name(l), shape);
        };
        per_layer(llama2c_names::attention_norm, {dim});
        per_layer(llama2c_names::wq, {q_dim, dim});
        per_layer(llama2c_names::wk, {kv_dim, dim});
        per_layer(llama2c_names::wv, {kv_dim, dim});
        per_layer(llama2c_names::wo, {dim, q_dim});
        per_layer(llama2c_names::ffn_norm, {dim});
        per_layer(llama2c_names::w1, {hidden, dim});
        per_layer(llama2c_names::w2, {dim, hidden});
        per_layer(llama2c_names::w3, {hidden, dim});
        b.add(llama2c_names::norm(), {dim});
        b.skip_floats(static_cast<uint64_t>(h.seq_len) *
                      static_cast<uint64_t>(head_size / 2));  // freq_cis_real
        b.skip_floats(static_cast<uint64_t>(h.seq_len) *
                      static_cast<uint64_t>(head_size / 2));  // freq_cis_imag
        if (!h.shared_classifier) b.add(llama2c_names::output(), {vocab, dim});
        if (b.end() != expected)  // the two computations of the layout must agree
            fail(
                fmt::format("internal error: tensor layout ends at byte {}, expected {}", b.end(), expected));
        tensors = b.take();
    }
};

Llama2cFile::Llama2cFile(std::string path) : impl_(std::make_unique<Impl>(std::move(path))) {
    impl_->parse();
}
Llama2cFile::~Llama2cFile() = default;

const Llama2cHeader& Llama2cFile::header() const { return impl_->header; }
const std::string& Llama2cFile::path() const { return impl_->path; }
const std::vector<TensorInfo>& Llama2cFile::tensors() const { return impl_->tensors; }

void Llama2cFile::read_f32(const TensorInfo& info, float* dst) const {
    const TensorInfo& t = formats::resolve_tensor(impl_->tensors, info, impl_->path);
    if (!dst) throw UsageError(impl_->path + ": read_f32 of '" + t.name + "' into a null buffer");
    formats::dequantize_to_f32(StorageType::f32, impl_->map.data() + t.offset,
                               static_cast<uint64_t>(t.numel()), dst);
}

MappedBytes Llama2cFile::mapped(const TensorInfo& info) const {
    const TensorInfo& t = formats::resolve_tensor(impl_->tensors, info, impl_->path);
    return {impl_->mapping->mutable_data() + t.offset, impl_->mapping};
}

}  // namespace headscope
