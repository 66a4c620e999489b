// llama2.c's tokenizer.bin, as its tokenizer.py `export` writes it (little-endian):
//   int32 max_token_length
//   vocab_size times: float32 score, int32 length, `length` bytes of the piece
// The token count is not stored: it comes from the model checkpoint. Pieces spell spaces as
// plain ' ' (the export replaced SentencePiece's '▁'), and the export wrapped BOS and EOS in
// newlines ("\n<s>\n", "\n</s>\n") to print nicely; they are given back as "<s>" and "</s>".
#include "headscope/error.hpp"
#include "headscope/tokenizer.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string_view>

namespace headscope {

namespace {

// Bounds-checked little-endian reads over the file's bytes.
class Reader {
public:
    Reader(const std::string& path, std::string_view data) : path_(path), data_(data) {}

    std::size_t offset() const { return pos_; }
    std::size_t remaining() const { return data_.size() - pos_; }

    uint32_t u32(const std::string& what) {
        need(4, what);
        uint32_t v = 0;
        for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(data_[pos_ + static_cast<std::size_t>(i)]);
        pos_ += 4;
        return v;
    }
    int32_t i32(const std::string& what) {
        const uint32_t u = u32(what);
        int32_t v;
        std::memcpy(&v, &u, sizeof v);
        return v;
    }
    float f32(const std::string& what) {
        const uint32_t u = u32(what);
        float v;
        std::memcpy(&v, &u, sizeof v);
        return v;
    }
    std::string bytes(std::size_t n, const std::string& what) {
        need(n, what);
        std::string s(data_.substr(pos_, n));
        pos_ += n;
        return s;
    }

    [[noreturn]] void fail(const std::string& problem) const { throw FormatError(path_, problem); }

private:
    void need(std::size_t n, const std::string& what) const {
        if (remaining() < n)
            fail(fmt::format("truncated: {} needs {} bytes at offset {}, but the file ends at {} bytes", what, n,
                             pos_, data_.size()));
    }

    const std::string& path_;
    std::string_view data_;
    std::size_t pos_ = 0;
};

// The whole file, refusing one larger than vocab_size tokens of the header's max_token_length
// could fill (e.g. a checkpoint passed by mistake) before reading it.
std::string read_whole_file(const std::string& path, int32_t vocab_size) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw IoError(fmt::format("cannot open tokenizer file {}: {}", path, std::strerror(errno)));
    in.seekg(0, std::ios::end);
    const std::streamoff size = in.tellg();
    if (size < 0) throw IoError(fmt::format("cannot determine the size of tokenizer file {}", path));
    in.seekg(0, std::ios::beg);
    if (size >= 4) {
        unsigned char header[4];
        if (!in.read(reinterpret_cast<char*>(header), 4))
            throw IoError(fmt::format("reading tokenizer file {} failed: {}", path, std::strerror(errno)));
        const int64_t max_token_length = static_cast<int32_t>(static_cast<uint32_t>(header[0]) |
                                                              static_cast<uint32_t>(header[1]) << 8 |
                                                              static_cast<uint32_t>(header[2]) << 16 |
                                                              static_cast<uint32_t>(header[3]) << 24);
        if (max_token_length > 0) {
            const int64_t limit = 4 + static_cast<int64_t>(vocab_size) * (8 + max_token_length);
            if (size > limit)
                throw FormatError(path, fmt::format(
                    "the file is {} bytes, more than {} tokens of at most {} bytes (the header's "
                    "max_token_length) can take ({} bytes): either the header is wrong or the file holds more "
                    "tokens than the model's vocabulary (is it the tokenizer of another model?)",
                    size, vocab_size, max_token_length, limit));
        }
        in.seekg(0, std::ios::beg);
    }
    std::string data(static_cast<std::size_t>(size), '\0');
    if (size > 0 && !in.read(data.data(), size))
        throw IoError(fmt::format("reading tokenizer file {} failed: {}", path, std::strerror(errno)));
    return data;
}

}  // namespace

Vocabulary read_llama2c_vocabulary(const std::string& path, int32_t vocab_size) {
    if (vocab_size <= 0)
        throw UsageError(fmt::format(
            "{}: vocab_size must be positive, got {} (llama2.c checkpoints store it negated when the classifier "
            "is not shared with the embedding: pass its absolute value)",
            path, vocab_size));
    if (vocab_size < 3)
        throw UsageError(fmt::format(
            "{}: vocab_size {} is too small for a llama2.c tokenizer, which reserves ids 0 <unk>, 1 <s> and 2 </s>",
            path, vocab_size));
    const std::string data = read_whole_file(path, vocab_size);
    Reader r(path, data);

    const int32_t max_token_length = r.i32("the header's max_token_length");
    if (max_token_length <= 0)
        r.fail(fmt::format("the header's max_token_length is {}; a positive byte count is expected",
                           max_token_length));

    Vocabulary vocab;
    vocab.uses_space_marker = false;
    vocab.add_dummy_prefix = true;
    vocab.pieces.reserve(static_cast<std::size_t>(vocab_size));
    vocab.scores.reserve(static_cast<std::size_t>(vocab_size));
    for (int32_t i = 0; i < vocab_size; ++i) {
        const std::string token = fmt::format("token {} of {}", i, vocab_size);
        const std::size_t score_offset = r.offset();
        const float score = r.f32(fmt::format("the score of {}", token));
        if (std::isnan(score)) r.fail(fmt::format("the score of {} (offset {}) is NaN", token, score_offset));
        const std::size_t length_offset = r.offset();
        const int32_t length = r.i32(fmt::format("the length of {}", token));
        if (length <= 0)
            r.fail(fmt::format("{} has length {} (offset {}); pieces are at least one byte long", token, length,
                               length_offset));
        if (length > max_token_length)
            r.fail(fmt::format("{} has length {} (offset {}), more than the max_token_length {} of the header",
                               token, length, length_offset, max_token_length));
        vocab.scores.push_back(score);
        vocab.pieces.push_back(r.bytes(static_cast<std::size_t>(length), fmt::format("the {} bytes of {}", length, token)));
    }
    if (r.remaining() != 0)
        r.fail(fmt::format("{} bytes follow the last of the {} tokens at offset {}: the file holds more tokens "
                           "than the model's vocabulary (is it the tokenizer of another model?)",
                           r.remaining(), vocab_size, r.offset()));

    // llama2.c's fixed ids: 0 <unk>, 1 <s>, 2 </s>.
    vocab.unk_id = 0;
    vocab.bos_id = 1;
    vocab.eos_id = 2;
    if (vocab.pieces[1] == "\n<s>\n") vocab.pieces[1] = "<s>";
    if (vocab.pieces[2] == "\n</s>\n") vocab.pieces[2] = "</s>";
    return vocab;
}

}  // namespace headscope
