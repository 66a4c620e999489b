// Tokenizers: text -> token ids with byte offsets into the source text, and back.
// Torch-free.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace headscope {

// Token kinds as GGUF's tokenizer.ggml.token_type and SentencePiece define them.
enum class TokenKind : int32_t { normal = 1, unknown = 2, control = 3, user_defined = 4, unused = 5, byte = 6 };

// A SentencePiece-style vocabulary: pieces, merge scores and kinds, as llama2.c's tokenizer.bin
// and GGUF's tokenizer.ggml.* hold it.
struct Vocabulary {
    std::vector<std::string> pieces;
    std::vector<float> scores;
    std::vector<TokenKind> kinds;  // may be empty: then inferred (<0xXX> bytes, <s>, </s>, <unk>)
    int bos_id = 1;
    int eos_id = 2;
    int unk_id = 0;
    // true when pieces spell a space as U+2581 '▁' (SentencePiece/GGUF); false when they hold
    // plain spaces (llama2.c's exported tokenizer.bin).
    bool uses_space_marker = true;
    bool add_dummy_prefix = true;  // prepend a space to non-empty text, as SentencePiece does
};

struct Encoding {
    std::vector<int32_t> ids;
    // [begin, end) byte range in the source text that each token covers. Tokens that cover no
    // source text (BOS, a dummy-prefix space) have begin == end.
    std::vector<std::pair<size_t, size_t>> offsets;
};

class Tokenizer {
public:
    virtual ~Tokenizer() = default;
    // add_bos: prepend the BOS token (explicit: never implied).
    virtual Encoding encode(std::string_view text, bool add_bos) const = 0;
    virtual std::string decode(const std::vector<int32_t>& ids) const = 0;
    // The text one token stands for on its own (space marker -> ' ', <0x0A> -> "\n"; control
    // tokens give "").
    virtual std::string token_text(int32_t id) const = 0;
    // The raw vocabulary piece (e.g. "▁the", "<0x0A>").
    virtual std::string piece(int32_t id) const = 0;
    virtual int32_t vocab_size() const = 0;
    virtual int32_t bos_id() const = 0;  // -1 when the vocabulary has none
    virtual int32_t eos_id() const = 0;
};

// SentencePiece-style BPE by merge scores with byte fallback (llama2.c, llama.cpp "llama").
std::unique_ptr<Tokenizer> make_sentencepiece_tokenizer(Vocabulary vocab);

// Reads llama2.c's tokenizer.bin (int32 max_len, then per token f32 score, int32 len, bytes).
// vocab_size comes from the model checkpoint. Throws FormatError.
Vocabulary read_llama2c_vocabulary(const std::string& path, int32_t vocab_size);

}  // namespace headscope

namespace headscope {

// Hugging Face tokenizers' tokenizer.json with a BPE model: GPT-2 byte-level (ByteLevel
// pre-tokenizer with its regex via PCRE2, byte<->unicode map) or SentencePiece-style
// (Metaspace/'▁' normalizer or pre-tokenizer, byte_fallback); added/special tokens matched
// before BPE. `path` is a tokenizer.json file or a directory holding one. Throws FormatError.
std::unique_ptr<Tokenizer> load_hf_tokenizer(const std::string& path);

}  // namespace headscope
