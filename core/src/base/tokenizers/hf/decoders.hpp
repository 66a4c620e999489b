// tokenizer.json "decoder": turns token pieces back into text. Supported: ByteLevel,
// Metaspace, Replace, ByteFallback, Fuse, Strip, BPEDecoder and Sequence of these.
// Unlike HF, byte sequences that are not valid UTF-8 are passed through as raw bytes instead
// of becoming U+FFFD, so decoding never loses information (a token may end mid-character).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tokenizers/hf/json_reader.hpp"

namespace headscope::hf_tok {

class Decoder {
public:
    virtual ~Decoder() = default;
    // Rewrites the pieces in place (HF's decode_chain); the text is their concatenation.
    // `single_piece`: the pieces are one token shown on its own, not the start of a text, so
    // steps that only tidy the start of a text (Strip, Metaspace dropping the first '▁') are
    // skipped.
    virtual void decode_chain(std::vector<std::string>& pieces, bool single_piece) const = 0;
};

// nullptr when `config` is null. Throws FormatError for an unknown or malformed decoder.
std::unique_ptr<Decoder> parse_decoder(const Json& config, const JsonReader& reader,
                                       const std::string& where);

}  // namespace headscope::hf_tok
