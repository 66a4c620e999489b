// tokenizer.json "normalizer": rewrites the text (keeping byte alignments) before
// pre-tokenization. Supported: Sequence, Prepend, Replace, Strip, NFC.
// NFC is accepted as a pass-through: without ICU no composition tables are at hand, and text
// that is already NFC (nearly all real text) is unchanged by it; decomposed input (e.g. 'e' +
// U+0301) is tokenized as written rather than composed first.
#pragma once

#include <memory>
#include <string>

#include "tokenizers/hf/json_reader.hpp"
#include "tokenizers/hf/normalized_text.hpp"

namespace headscope::hf_tok {

class Normalizer {
public:
    virtual ~Normalizer() = default;
    virtual void normalize(NormalizedText& text) const = 0;
};

// nullptr when `config` is null. Throws FormatError for an unknown or malformed normalizer.
std::unique_ptr<Normalizer> parse_normalizer(const Json& config, const JsonReader& reader,
                                             const std::string& where);

}  // namespace headscope::hf_tok
