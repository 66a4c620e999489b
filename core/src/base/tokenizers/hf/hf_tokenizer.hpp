// The Tokenizer for a Hugging Face tokenizer.json with a BPE model. The pipeline follows HF
// tokenizers: added tokens are cut out of the raw text, the rest is normalized (added tokens
// with normalized=true are cut out next), pre-tokenized into words, and each word is BPE-merged.
// Offsets are byte ranges of the original text: a byte-level token holding part of a
// multi-byte character covers just the bytes it holds; a token made only of inserted text (a
// prepended '▁') covers an empty range.
// decode() keeps special tokens (HF's skip_special_tokens=false) so that decode(encode(s)) == s
// for byte-level tokenizers; token_text() of a special token is "".
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "headscope/tokenizer.hpp"
#include "tokenizers/hf/added_vocabulary.hpp"
#include "tokenizers/hf/bpe_model.hpp"
#include "tokenizers/hf/decoders.hpp"
#include "tokenizers/hf/json_reader.hpp"
#include "tokenizers/hf/normalizers.hpp"
#include "tokenizers/hf/pre_tokenizers.hpp"
#include "tokenizers/hf/special_tokens.hpp"

namespace headscope::hf_tok {

class HfTokenizer final : public Tokenizer {
public:
    // `root` is the parsed tokenizer.json read from `file`; `tokenizer_config_path` names a
    // tokenizer_config.json that may hold bos_token/eos_token (it need not exist).
    // `fixed_special` (e.g. from a GGUF file's tokenizer.ggml.bos_token_id) replaces that search.
    HfTokenizer(const Json& root, const std::string& file, const std::string& tokenizer_config_path,
                std::optional<SpecialTokenIds> fixed_special = std::nullopt);

    Encoding encode(std::string_view text, bool add_bos) const override;
    std::string decode(const std::vector<int32_t>& ids) const override;
    std::string token_text(int32_t id) const override;
    std::string piece(int32_t id) const override;
    int32_t vocab_size() const override { return static_cast<int32_t>(pieces_.size()); }
    int32_t bos_id() const override { return bos_id_; }
    int32_t eos_id() const override { return eos_id_; }

private:
    enum class PieceKind : uint8_t { none, model, added, special };
    void check_id(int32_t id, const char* what) const;
    // Runs body; a degenerate pipeline's TextGrowthError or RegexMatchError becomes a
    // FormatError naming the tokenizer file.
    template <class Body>
    auto naming_file(Body body) const -> decltype(body());
    Encoding encode_segments(std::string_view text, bool add_bos) const;
    std::string decode_pieces(const std::vector<int32_t>& ids) const;
    void encode_text(const NormalizedText& text, Encoding& out) const;

    std::string file_;
    std::unique_ptr<Normalizer> normalizer_;
    std::unique_ptr<PreTokenizer> pre_tokenizer_;
    std::unique_ptr<BpeModel> model_;
    std::unique_ptr<AddedVocabulary> added_;
    std::unique_ptr<Decoder> decoder_;
    std::vector<std::string> pieces_;  // id -> piece (added tokens override the model's)
    std::vector<PieceKind> kinds_;
    int32_t bos_id_ = -1;
    int32_t eos_id_ = -1;
};

}  // namespace headscope::hf_tok
