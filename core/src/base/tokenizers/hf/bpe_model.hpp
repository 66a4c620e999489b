// tokenizer.json "model" of type BPE: vocabulary, merges ranked by their position, optional
// byte fallback (<0xXX> pieces), unknown token (optionally fused), continuing-subword prefix and
// end-of-word suffix, ignore_merges. Words are merged lowest rank first (leftmost on ties) with
// a priority queue over a linked list of symbols, and results are kept in a bounded word cache.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizers/hf/json_reader.hpp"

namespace headscope::hf_tok {

class BpeModel {
public:
    // A token of a word: its id and the byte range [begin, end) of the word it stands for.
    struct Piece {
        int32_t id;
        size_t begin;
        size_t end;
    };

    // Reads the "model" object. Throws FormatError on anything malformed (unknown merge pieces,
    // duplicate ids, an unk_token missing from the vocabulary...).
    BpeModel(const Json& model, const JsonReader& reader, const std::string& where);
    ~BpeModel();
    BpeModel(const BpeModel&) = delete;
    BpeModel& operator=(const BpeModel&) = delete;

    // Appends the tokens of one pre-tokenized word. Thread-safe.
    void tokenize(std::string_view word, std::vector<Piece>& out) const;

    int32_t token_to_id(std::string_view piece) const;  // -1 when absent
    // The piece of an id, or nullptr when no piece has it.
    const std::string* id_to_token(int32_t id) const;
    int32_t id_limit() const { return static_cast<int32_t>(pieces_.size()); }  // max id + 1
    // Tables are indexed by id, so ids may not run far past the number of tokens: the largest
    // id accepted for `entries` tokens (2 x entries + 65536, at most 2^24 - 1).
    static int64_t max_id_for(size_t entries);
    bool byte_fallback() const { return byte_fallback_; }
    size_t size() const { return vocab_.size(); }  // tokens in the vocabulary

private:
    struct Merge {
        int32_t rank;
        int32_t new_id;
    };
    struct Cache;

    static uint64_t pair_key(int32_t a, int32_t b) {
        return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
    }
    void merge_word(std::string_view word, std::vector<Piece>& out) const;

    std::unordered_map<std::string, int32_t> vocab_;
    std::vector<std::string> pieces_;
    std::vector<bool> has_piece_;
    std::unordered_map<uint64_t, Merge> merges_;
    int32_t unk_id_ = -1;
    bool fuse_unk_ = false;
    bool byte_fallback_ = false;
    bool ignore_merges_ = false;
    std::string continuing_subword_prefix_;
    std::string end_of_word_suffix_;
    std::unique_ptr<Cache> cache_;
};

}  // namespace headscope::hf_tok
