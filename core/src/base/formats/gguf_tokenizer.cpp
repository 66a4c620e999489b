// gguf_tokenizer: the "gpt2" vocabulary is turned into the tokenizer.json it was converted from
// (model BPE with vocab and merges, the pre-tokenizer's Split steps + ByteLevel, ByteLevel
// decoder, control/user-defined tokens as added tokens) and handed to the tokenizer.json
// pipeline; "llama" goes to the SentencePiece tokenizer.
#include "headscope/formats/gguf_tokenizer.hpp"

#include <climits>

#include <fmt/format.h>

#include "formats/gguf_pre_tokenizers.hpp"
#include "formats/gguf_tokenizer_keys.hpp"
#include "headscope/error.hpp"
#include "headscope/formats/gguf_file.hpp"
#include "tokenizers/hf/hf_tokenizer.hpp"

namespace headscope {

namespace {
using namespace gguf_keys;
constexpr const char* kModel = kTokenizerModel;
constexpr const char* kPre = kTokenizerPre;
constexpr const char* kBos = kBosId;
constexpr const char* kEos = kEosId;

// llama.cpp's token types (tokenizer.ggml.token_type).
constexpr int64_t kControl = 3, kUserDefined = 4;

[[noreturn]] void fail(const GgufFile& file, const std::string& problem) {
    throw FormatError(file.path(), problem);
}

int32_t special_id(const GgufFile& file, const char* key, size_t n_tokens) {
    const auto id = file.get_int(key);
    if (!id) return -1;
    if (*id < 0 || static_cast<uint64_t>(*id) >= n_tokens)
        fail(file, fmt::format("{} is {}, outside the vocabulary of {} tokens", key, *id, n_tokens));
    return static_cast<int32_t>(*id);
}

hf_tok::Json split_step(const char* regex) {
    return {{"type", "Split"},
            {"pattern", {{"Regex", regex}}},
            {"behavior", "Isolated"},
            {"invert", false}};
}

std::unique_ptr<Tokenizer> byte_level_bpe(const GgufFile& file) {
    const auto pre_name = file.get_string(kPre).value_or("default");
    const formats::GgufPreTokenizer* pre = formats::find_gguf_pre_tokenizer(pre_name);
    if (!pre)
        fail(file, fmt::format("{} is '{}', a pre-tokenizer headscope does not know; supported: {}", kPre,
                               pre_name, formats::supported_gguf_pre_tokenizers()));

    auto tokens = file.get_strings(kTokens);
    if (!tokens) fail(file, fmt::format("missing required metadata key '{}'", kTokens));
    if (tokens->empty() || tokens->size() > static_cast<size_t>(INT_MAX))
        fail(file, fmt::format("{} holds {} tokens", kTokens, tokens->size()));
    auto merges = file.get_strings(kMerges);
    if (!merges) fail(file, fmt::format("missing required metadata key '{}' (byte-level BPE needs merges)", kMerges));
    std::vector<int64_t> types;
    if (auto t = file.get_ints(kTokenType)) {
        if (t->size() != tokens->size())
            fail(file, fmt::format("{} has {} entries but {} has {}", kTokenType, t->size(), kTokens,
                                   tokens->size()));
        types = std::move(*t);
    }

    hf_tok::Json vocab = hf_tok::Json::object();
    hf_tok::Json added = hf_tok::Json::array();
    for (size_t id = 0; id < tokens->size(); ++id) {
        const std::string& piece = (*tokens)[id];
        if (piece.empty()) fail(file, fmt::format("{}[{}] is an empty token", kTokens, id));
        const int64_t type = types.empty() ? 1 : types[id];
        if (type == kControl || type == kUserDefined) {
            added.push_back({{"id", id},
                             {"content", piece},
                             {"single_word", false},
                             {"lstrip", false},
                             {"rstrip", false},
                             {"normalized", false},
                             {"special", type == kControl}});
        }
        if (vocab.contains(piece)) {
            if (type == kControl || type == kUserDefined) continue;  // matched as an added token
            fail(file, fmt::format("{}[{}] '{}' repeats token {}", kTokens, id, piece,
                                   vocab[piece].get<int64_t>()));
        }
        vocab[piece] = id;
    }
    for (size_t i = 0; i < merges->size(); ++i) {
        const std::string& m = (*merges)[i];
        const size_t space = m.find(' ');
        if (space == std::string::npos || space == 0 || space + 1 == m.size() ||
            m.find(' ', space + 1) != std::string::npos)
            fail(file, fmt::format("{}[{}] is '{}', expected two tokens separated by one space", kMerges, i, m));
        const std::string left = m.substr(0, space), right = m.substr(space + 1);
        for (const std::string* part : {&left, &right})
            if (!vocab.contains(*part))
                fail(file, fmt::format("{}[{}] '{}' names '{}', which is not in {}", kMerges, i, m, *part, kTokens));
        if (!vocab.contains(left + right))
            fail(file, fmt::format("{}[{}] '{}' makes '{}', which is not in {}", kMerges, i, m, left + right,
                                   kTokens));
    }

    hf_tok::Json steps = hf_tok::Json::array();
    for (const char* regex : pre->regexes) steps.push_back(split_step(regex));
    steps.push_back({{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}});
    hf_tok::Json root = {
        {"model",
         {{"type", "BPE"},
          {"vocab", std::move(vocab)},
          {"merges", std::move(*merges)},
          {"ignore_merges", pre->ignore_merges},
          {"byte_fallback", false}}},
        {"pre_tokenizer", {{"type", "Sequence"}, {"pretokenizers", std::move(steps)}}},
        {"decoder", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}}},
        {"added_tokens", std::move(added)},
    };
    if (pre->nfc) root["normalizer"] = {{"type", "NFC"}};

    hf_tok::SpecialTokenIds special;
    special.bos = special_id(file, kBos, tokens->size());
    special.eos = special_id(file, kEos, tokens->size());
    try {
        return std::make_unique<hf_tok::HfTokenizer>(root, file.path(), std::string(), special);
    } catch (const FormatError& e) {
        fail(file, fmt::format("the embedded {} vocabulary (tokenizer.ggml.*) is not usable: {}", "gpt2",
                               e.problem()));
    }
}
}  // namespace

std::unique_ptr<Tokenizer> gguf_tokenizer(const GgufFile& file) {
    const auto model = file.get_string(kModel);
    if (!model) fail(file, fmt::format("missing required metadata key '{}'", kModel));
    if (*model == "llama") return make_sentencepiece_tokenizer(gguf_vocabulary(file));
    if (*model == "gpt2") return byte_level_bpe(file);
    fail(file, fmt::format("{} is '{}'; supported: llama (SentencePiece), gpt2 (byte-level BPE)", kModel, *model));
}

}  // namespace headscope
