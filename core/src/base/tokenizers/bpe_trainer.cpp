// Byte-level BPE training: count GPT-2 pre-tokenizer pieces, merge the most frequent pair.
#include "headscope/bpe_trainer.hpp"

#include <algorithm>
#include <stdexcept>

#include "tokenizers/hf/byte_level_map.hpp"
#include "tokenizers/hf/pattern.hpp"

namespace headscope {

namespace {

// The GPT-2 pre-tokenizer pattern, as HF's ByteLevel pre-tokenizer uses it (use_regex).
const hf_tok::Regex& gpt2_regex() {
    static const hf_tok::Regex regex(
        R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)");
    return regex;
}

struct Word {
    std::vector<int32_t> symbols;
    uint64_t count = 0;
};

}  // namespace

void BpeTrainer::add_text(std::string_view text) {
    for (const hf_tok::PatternPiece& p : gpt2_regex().find_matches(text)) {
        if (p.span.end <= p.span.begin) continue;
        // Unmatched runs (e.g. invalid UTF-8) become pieces of their own, as HF isolates them.
        add_piece(std::string(text.substr(p.span.begin, p.span.end - p.span.begin)));
    }
}

void BpeTrainer::add_piece(const std::string& piece, uint64_t count) {
    if (piece.empty() || count == 0) return;
    counts_[piece] += count;
}

TrainedBpe BpeTrainer::train(const BpeTrainerOptions& options) const {
    TrainedBpe out;
    out.special_tokens = options.special_tokens;
    out.vocab = options.special_tokens;
    const int32_t byte_base = static_cast<int32_t>(out.vocab.size());
    for (int b = 0; b < 256; ++b) out.vocab.push_back(hf_tok::byte_to_unicode(static_cast<uint8_t>(b)));
    for (const std::string& s : options.special_tokens) {
        if (std::count(out.vocab.begin(), out.vocab.end(), s) != 1)
            throw std::invalid_argument("special token '" + s + "' is duplicated or collides with a byte token");
    }
    // Raw bytes of every token, for the deterministic tie-break.
    std::vector<std::string> bytes_of(out.vocab.size());
    for (int b = 0; b < 256; ++b) bytes_of[static_cast<size_t>(byte_base + b)] = std::string(1, static_cast<char>(b));

    std::map<std::string, int32_t> ids;
    for (size_t i = 0; i < out.vocab.size(); ++i) ids.emplace(out.vocab[i], static_cast<int32_t>(i));

    std::vector<Word> words;
    words.reserve(counts_.size());
    for (const auto& [piece, count] : counts_) {
        Word w;
        w.count = count;
        for (unsigned char c : piece) w.symbols.push_back(byte_base + c);
        words.push_back(std::move(w));
    }

    while (options.max_vocab == 0 || out.vocab.size() < options.max_vocab) {
        std::map<std::pair<int32_t, int32_t>, uint64_t> pairs;
        for (const Word& w : words)
            for (size_t i = 0; i + 1 < w.symbols.size(); ++i) pairs[{w.symbols[i], w.symbols[i + 1]}] += w.count;
        const std::pair<int32_t, int32_t>* best = nullptr;
        uint64_t best_count = 0;
        for (const auto& [pair, count] : pairs) {
            if (count < options.min_pair_count) continue;
            bool better = count > best_count;
            if (!better && count == best_count && best != nullptr) {
                const auto& l = bytes_of[static_cast<size_t>(pair.first)];
                const auto& r = bytes_of[static_cast<size_t>(pair.second)];
                const auto& bl = bytes_of[static_cast<size_t>(best->first)];
                const auto& br = bytes_of[static_cast<size_t>(best->second)];
                better = std::tie(l, r) < std::tie(bl, br);
            }
            if (better) {
                best = &pair;
                best_count = count;
            }
        }
        if (best == nullptr) break;
        const auto [left, right] = *best;
        out.merges.emplace_back(out.vocab[static_cast<size_t>(left)], out.vocab[static_cast<size_t>(right)]);
        std::string text = out.vocab[static_cast<size_t>(left)] + out.vocab[static_cast<size_t>(right)];
        // Two merge paths can spell the same token ("ab"+"c", "a"+"bc"): it keeps one id.
        int32_t merged = static_cast<int32_t>(out.vocab.size());
        if (auto it = ids.find(text); it != ids.end()) {
            merged = it->second;
        } else {
            ids.emplace(text, merged);
            out.vocab.push_back(std::move(text));
            bytes_of.push_back(bytes_of[static_cast<size_t>(left)] + bytes_of[static_cast<size_t>(right)]);
        }
        for (Word& w : words) {
            std::vector<int32_t>& s = w.symbols;
            size_t o = 0;
            for (size_t i = 0; i < s.size(); ++i) {
                if (i + 1 < s.size() && s[i] == left && s[i + 1] == right) {
                    s[o++] = merged;
                    ++i;
                } else {
                    s[o++] = s[i];
                }
            }
            s.resize(o);
        }
    }
    return out;
}

}  // namespace headscope
