// A byte-level BPE trainer (GPT-2 style): text is split by the GPT-2 pre-tokenizer regex, the
// pieces are counted, and the most frequent adjacent pair is merged repeatedly. The result is
// written as a Hugging Face tokenizer.json (ByteLevel pre-tokenizer and decoder, BPE model with
// vocab and merges, special tokens in added_tokens) that load_hf_tokenizer and HF tokenizers
// read. Torch-free.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace headscope {

struct TrainedBpe {
    // Token strings in the byte-level alphabet (' ' is 'Ġ'), index = id. Special tokens come
    // first (ids 0..special_tokens.size()-1), then the 256 bytes in byte order, then one token
    // per merge in merge order.
    std::vector<std::string> vocab;
    std::vector<std::pair<std::string, std::string>> merges;  // byte-level strings
    std::vector<std::string> special_tokens;                  // e.g. "<|bos|>"
};

struct BpeTrainerOptions {
    // Stop when the vocabulary (specials + bytes + merges) reaches this size; 0 = merge until
    // every counted piece is a single token (a closed vocabulary).
    size_t max_vocab = 0;
    // Pairs seen fewer times than this are never merged.
    uint64_t min_pair_count = 1;
    std::vector<std::string> special_tokens{"<|bos|>"};
};

class BpeTrainer {
public:
    // Pre-tokenizes text with the GPT-2 regex and counts its pieces.
    void add_text(std::string_view text);
    // Counts one pre-tokenized piece (raw bytes, e.g. " Mary") `count` times.
    void add_piece(const std::string& piece, uint64_t count = 1);
    const std::map<std::string, uint64_t>& piece_counts() const { return counts_; }
    // Deterministic: ties between equally frequent pairs go to the lexicographically smallest
    // (left, right) pair of byte strings.
    TrainedBpe train(const BpeTrainerOptions& options = {}) const;

private:
    std::map<std::string, uint64_t> counts_;
};

// tokenizer.json text (HF tokenizers format, model type BPE, byte-level). The first special
// token is declared as BOS by a TemplateProcessing post-processor.
std::string to_hf_tokenizer_json(const TrainedBpe& bpe);
// Writes tokenizer.json and tokenizer_config.json (bos_token / eos_token = first special
// token) into directory. Throws IoError.
void write_hf_tokenizer(const std::string& directory, const TrainedBpe& bpe);

}  // namespace headscope
