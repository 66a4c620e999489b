#include "tokenizers/hf/bpe_model.hpp"

#include <algorithm>
#include <cstdio>
#include <mutex>
#include <queue>

#include "tokenizers/hf/utf8.hpp"

namespace headscope::hf_tok {
namespace {

// Ids above this are refused: no real vocabulary comes close, and the id -> piece table is
// sized by the largest id.
constexpr int64_t kMaxTokenId = (int64_t{1} << 24) - 1;
constexpr size_t kCacheCapacity = 10000;
constexpr size_t kCacheMaxWordBytes = 256;

std::string byte_piece(uint8_t b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", static_cast<unsigned>(b));
    return buf;
}

}  // namespace

int64_t BpeModel::max_id_for(size_t entries) {
    return std::min<int64_t>(kMaxTokenId, 2 * static_cast<int64_t>(entries) + 65536);
}

struct BpeModel::Cache {
    std::mutex mutex;
    std::unordered_map<std::string, std::vector<Piece>> words;
};

BpeModel::~BpeModel() = default;

BpeModel::BpeModel(const Json& model, const JsonReader& reader, const std::string& where)
    : cache_(std::make_unique<Cache>()) {
    // Vocabulary: piece -> id.
    const Json& vocab = reader.object(model, "vocab", where);
    const std::string vocab_at = JsonReader::path(where, "vocab");
    vocab_.reserve(vocab.size());
    int64_t max_id = -1;
    const int64_t id_cap = max_id_for(vocab.size());
    for (auto it = vocab.begin(); it != vocab.end(); ++it) {
        const std::string at = vocab_at + "[\"" + it.key() + "\"]";
        if (!it->is_number_integer()) {
            reader.fail(at, "expected an integer id, found " + JsonReader::type_name(*it));
        }
        const int64_t id = it->get<int64_t>();
        if (id < 0 || id > id_cap) {
            reader.fail(at, "id " + it->dump() + " is out of range [0, " + std::to_string(id_cap) +
                                "] (the limit for " + std::to_string(vocab.size()) +
                                " tokens: 2 x tokens + 65536)");
        }
        vocab_.emplace(it.key(), static_cast<int32_t>(id));
        max_id = std::max(max_id, id);
    }
    pieces_.assign(static_cast<size_t>(max_id + 1), std::string());
    has_piece_.assign(static_cast<size_t>(max_id + 1), false);
    for (const auto& [piece, id] : vocab_) {
        const auto index = static_cast<size_t>(id);
        if (has_piece_[index]) {
            const std::string& other = pieces_[index];
            reader.fail(vocab_at, "id " + std::to_string(id) + " is given to both \"" +
                                      std::min(other, piece) + "\" and \"" +
                                      std::max(other, piece) + "\"");
        }
        pieces_[index] = piece;
        has_piece_[index] = true;
    }

    // Options. Empty prefix/suffix strings mean "none", as in GPT-2's tokenizer.json.
    byte_fallback_ = reader.boolean_or(model, "byte_fallback", where, false);
    fuse_unk_ = reader.boolean_or(model, "fuse_unk", where, false);
    ignore_merges_ = reader.boolean_or(model, "ignore_merges", where, false);
    continuing_subword_prefix_ = reader.string_or(model, "continuing_subword_prefix", where, "");
    end_of_word_suffix_ = reader.string_or(model, "end_of_word_suffix", where, "");
    if (const Json* unk = JsonReader::member(model, "unk_token")) {
        if (!unk->is_string()) {
            reader.fail(JsonReader::path(where, "unk_token"),
                        "expected a string or null, found " + JsonReader::type_name(*unk));
        }
        const std::string name = unk->get<std::string>();
        unk_id_ = token_to_id(name);
        if (unk_id_ < 0) {
            reader.fail(JsonReader::path(where, "unk_token"),
                        "\"" + name + "\" is not in the vocabulary");
        }
    }
    // "dropout" is ignored on purpose: encoding here is deterministic.

    // Merges: "a b" strings or ["a", "b"] pairs; rank = position.
    const Json& merges = reader.array(model, "merges", where);
    const std::string merges_at = JsonReader::path(where, "merges");
    merges_.reserve(merges.size());
    for (size_t rank = 0; rank < merges.size(); ++rank) {
        const Json& m = merges[rank];
        const std::string at = JsonReader::path(merges_at, rank);
        std::string left, right;
        if (m.is_string()) {
            const std::string line = m.get<std::string>();
            const size_t space = line.find(' ');
            if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos) {
                reader.fail(at, "merge \"" + line + "\" is not two pieces separated by one space");
            }
            left = line.substr(0, space);
            right = line.substr(space + 1);
        } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
            left = m[0].get<std::string>();
            right = m[1].get<std::string>();
        } else {
            reader.fail(at, "expected \"a b\" or [\"a\", \"b\"], found " + m.dump());
        }
        const int32_t a = token_to_id(left);
        const int32_t b = token_to_id(right);
        if (a < 0) reader.fail(at, "merge refers to \"" + left + "\", which is not in the vocabulary");
        if (b < 0) {
            reader.fail(at, "merge refers to \"" + right + "\", which is not in the vocabulary");
        }
        std::string merged = left;
        if (!continuing_subword_prefix_.empty() &&
            right.compare(0, continuing_subword_prefix_.size(), continuing_subword_prefix_) == 0) {
            merged += right.substr(continuing_subword_prefix_.size());
        } else {
            merged += right;
        }
        const int32_t merged_id = token_to_id(merged);
        if (merged_id < 0) {
            reader.fail(at, "merged piece \"" + merged + "\" is not in the vocabulary");
        }
        // Like HF (a map built in order), a repeated pair keeps its last rank.
        merges_[pair_key(a, b)] = Merge{static_cast<int32_t>(rank), merged_id};
    }
}

int32_t BpeModel::token_to_id(std::string_view piece) const {
    const auto it = vocab_.find(std::string(piece));
    return it == vocab_.end() ? -1 : it->second;
}

const std::string* BpeModel::id_to_token(int32_t id) const {
    if (id < 0 || id >= id_limit() || !has_piece_[static_cast<size_t>(id)]) return nullptr;
    return &pieces_[static_cast<size_t>(id)];
}

void BpeModel::merge_word(std::string_view word,
                          std::vector<Piece>& out) const {
    struct Symbol {
        int32_t id;
        int32_t prev;
        int32_t next;
        size_t begin;  // byte range [begin, end) of the word
        size_t end;
        bool alive;  // false once merged into its left neighbour
    };
    std::vector<Symbol> symbols;
    symbols.reserve(word.size());
    const auto add = [&](int32_t id, size_t begin, size_t len) {
        const auto index = static_cast<int32_t>(symbols.size());
        symbols.push_back({id, index - 1, -1, begin, begin + len, true});
        if (index > 0) symbols[static_cast<size_t>(index - 1)].next = index;
    };

    // 1. One symbol per character (or per byte with byte fallback, or an unknown token).
    // A (possibly fused) unknown token not yet added: its byte range in the word.
    size_t unk_begin = 0;
    size_t unk_len = 0;
    const auto flush_unk = [&]() {
        if (unk_len > 0) add(unk_id_, unk_begin, unk_len);
        unk_len = 0;
    };
    std::string candidate;
    for (size_t pos = 0; pos < word.size();) {
        const size_t len = next_utf8_char(word, pos).length;
        const bool first = pos == 0;
        const bool last = pos + len == word.size();
        candidate.clear();
        if (!first) candidate += continuing_subword_prefix_;
        candidate.append(word.substr(pos, len));
        if (last) candidate += end_of_word_suffix_;

        if (const int32_t id = token_to_id(candidate); id >= 0) {
            flush_unk();
            add(id, pos, len);
        } else {
            bool done = false;
            if (byte_fallback_) {
                std::vector<int32_t> bytes;
                for (size_t i = 0; i < len; ++i) {
                    const int32_t b = token_to_id(byte_piece(static_cast<uint8_t>(word[pos + i])));
                    if (b < 0) break;
                    bytes.push_back(b);
                }
                if (bytes.size() == len) {
                    flush_unk();
                    for (size_t i = 0; i < len; ++i) add(bytes[i], pos + i, 1);
                    done = true;
                }
            }
            if (!done && unk_id_ >= 0) {
                if (unk_len > 0 && !fuse_unk_) flush_unk();
                if (unk_len == 0) unk_begin = pos;
                unk_len = pos + len - unk_begin;
            }
            // Without an unknown token the character is dropped, as HF does.
        }
        pos += len;
    }
    flush_unk();

    // 2. Merge the lowest-ranked adjacent pair first; leftmost wins ties.
    struct Candidate {
        int32_t rank;
        int32_t pos;
        int32_t new_id;
        bool operator>(const Candidate& o) const {
            return rank != o.rank ? rank > o.rank : pos > o.pos;
        }
    };
    std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> queue;
    const auto push_pair = [&](int32_t left) {
        if (left < 0) return;
        const int32_t right = symbols[static_cast<size_t>(left)].next;
        if (right < 0) return;
        const auto it = merges_.find(pair_key(symbols[static_cast<size_t>(left)].id,
                                              symbols[static_cast<size_t>(right)].id));
        if (it != merges_.end()) queue.push({it->second.rank, left, it->second.new_id});
    };
    for (int32_t i = 0; i + 1 < static_cast<int32_t>(symbols.size()); ++i) push_pair(i);
    while (!queue.empty()) {
        const Candidate top = queue.top();
        queue.pop();
        Symbol& left = symbols[static_cast<size_t>(top.pos)];
        if (!left.alive || left.next < 0) continue;
        Symbol& right = symbols[static_cast<size_t>(left.next)];
        const auto it = merges_.find(pair_key(left.id, right.id));
        if (it == merges_.end() || it->second.new_id != top.new_id) continue;  // stale entry
        left.id = top.new_id;
        left.end = right.end;  // may span dropped characters between them
        right.alive = false;
        left.next = right.next;
        if (left.next >= 0) symbols[static_cast<size_t>(left.next)].prev = top.pos;
        if (left.prev >= 0) push_pair(left.prev);
        push_pair(top.pos);
    }
    for (const Symbol& s : symbols) {
        if (s.alive) out.push_back({s.id, s.begin, s.end});
    }
}

void BpeModel::tokenize(std::string_view word, std::vector<Piece>& out) const {
    if (word.empty()) return;
    if (ignore_merges_) {
        if (const int32_t id = token_to_id(word); id >= 0) {
            out.push_back({id, 0, word.size()});
            return;
        }
    }
    bool cached = false;
    const bool cacheable = word.size() <= kCacheMaxWordBytes;
    if (cacheable) {
        std::lock_guard<std::mutex> lock(cache_->mutex);
        const auto it = cache_->words.find(std::string(word));
        if (it != cache_->words.end()) {
            out.insert(out.end(), it->second.begin(), it->second.end());
            cached = true;
        }
    }
    if (cached) return;
    std::vector<Piece> tokens;
    merge_word(word, tokens);
    if (cacheable) {
        std::lock_guard<std::mutex> lock(cache_->mutex);
        if (cache_->words.size() >= kCacheCapacity) cache_->words.clear();
        cache_->words.emplace(std::string(word), tokens);
    }
    out.insert(out.end(), tokens.begin(), tokens.end());
}

}  // namespace headscope::hf_tok
