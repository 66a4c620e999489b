// The SentencePiece ("llama") vocabulary embedded in a GGUF file under tokenizer.ggml.*.
#include <climits>

#include <fmt/format.h>

#include "formats/gguf_reader.hpp"
#include "formats/gguf_tokenizer_keys.hpp"
#include "headscope/error.hpp"
#include "headscope/formats/gguf_file.hpp"

namespace headscope {

namespace {
using namespace gguf_keys;
constexpr const char* kModel = kTokenizerModel;
constexpr const char* kBos = kBosId;
constexpr const char* kEos = kEosId;
constexpr const char* kUnk = kUnkId;

TokenKind token_kind(const GgufFile& file, size_t index, int64_t value) {
    // 0 is llama.cpp's "undefined" type, which it treats as normal text.
    if (value == 0) return TokenKind::normal;
    if (value < static_cast<int64_t>(TokenKind::normal) || value > static_cast<int64_t>(TokenKind::byte))
        throw FormatError(file.path(),
                          fmt::format("{}[{}] is {}, expected a token type 0..6", kTokenType, index, value));
    return static_cast<TokenKind>(value);
}

int token_id(const GgufFile& file, const char* key, int fallback, size_t n_tokens) {
    const int64_t id = file.get_int(key).value_or(fallback);
    if (id < 0 || static_cast<uint64_t>(id) >= n_tokens)
        throw FormatError(file.path(),
                          fmt::format("{} is {}, outside the vocabulary of {} tokens", key, id, n_tokens));
    return static_cast<int>(id);
}
}  // namespace

Vocabulary gguf_vocabulary(const GgufFile& file) {
    const auto model = file.get_string(kModel);
    if (!model) throw FormatError(file.path(), fmt::format("missing required metadata key '{}'", kModel));
    if (*model != "llama")
        throw FormatError(file.path(),
                          fmt::format("{} is '{}'; supported: llama (SentencePiece)", kModel, *model));

    Vocabulary v;
    auto tokens = file.get_strings(kTokens);
    if (!tokens) throw FormatError(file.path(), fmt::format("missing required metadata key '{}'", kTokens));
    if (tokens->empty() || tokens->size() > static_cast<size_t>(INT_MAX))
        throw FormatError(file.path(), fmt::format("{} holds {} tokens", kTokens, tokens->size()));
    const size_t n = tokens->size();
    v.pieces = std::move(*tokens);

    auto scores = file.get_floats(kScores);
    if (!scores) throw FormatError(file.path(), fmt::format("missing required metadata key '{}'", kScores));
    if (scores->size() != n)
        throw FormatError(
            file.path(), fmt::format("{} has {} entries but {} has {}", kScores, scores->size(), kTokens, n));
    v.scores.assign(scores->begin(), scores->end());

    if (auto types = file.get_ints(kTokenType)) {
        if (types->size() != n)
            throw FormatError(file.path(), fmt::format("{} has {} entries but {} has {}", kTokenType,
                                                       types->size(), kTokens, n));
        v.kinds.reserve(n);
        for (size_t i = 0; i < n; ++i) v.kinds.push_back(token_kind(file, i, (*types)[i]));
    }

    v.bos_id = token_id(file, kBos, 1, n);
    v.eos_id = token_id(file, kEos, 2, n);
    v.unk_id = token_id(file, kUnk, 0, n);
    v.uses_space_marker = true;
    v.add_dummy_prefix = true;
    const auto& meta = file.metadata();
    if (auto it = meta.find(kAddSpacePrefix); it != meta.end()) {
        const bool* b = std::get_if<bool>(&it->second.value);
        if (!b)
            throw FormatError(file.path(),
                              fmt::format("metadata key '{}' is {}, expected a bool", kAddSpacePrefix,
                                          formats::describe_value_kind(it->second)));
        v.add_dummy_prefix = *b;
    }
    return v;
}

}  // namespace headscope
