// tokenizer.json "pre_tokenizer": cuts normalized text into words for the model.
// Supported: ByteLevel (add_prefix_space, use_regex with GPT-2's pattern), Split (String or
// Regex pattern, every SplitDelimiterBehavior, invert), Metaspace (replacement, prepend_scheme
// first/always/never or legacy add_prefix_space, split), Digits, Whitespace, WhitespaceSplit,
// and Sequence of these.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tokenizers/hf/json_reader.hpp"
#include "tokenizers/hf/normalized_text.hpp"

namespace headscope::hf_tok {

// GPT-2's pre-tokenization pattern, as HF's ByteLevel pre-tokenizer uses it.
extern const char* const kGpt2SplitPattern;

enum class PrependScheme { always, first, never };

// Reads Metaspace's prepend_scheme, honouring the legacy add_prefix_space flag (shared by the
// Metaspace pre-tokenizer and decoder).
PrependScheme parse_prepend_scheme(const Json& config, const JsonReader& reader,
                                   const std::string& where);

class PreTokenizer {
public:
    virtual ~PreTokenizer() = default;
    // Replaces every split by the words it is cut into (empty words are dropped).
    virtual void pre_tokenize(std::vector<NormalizedText>& splits) const = 0;
};

// nullptr when `config` is null. Throws FormatError for an unknown or malformed pre-tokenizer.
std::unique_ptr<PreTokenizer> parse_pre_tokenizer(const Json& config, const JsonReader& reader,
                                                  const std::string& where);

}  // namespace headscope::hf_tok
