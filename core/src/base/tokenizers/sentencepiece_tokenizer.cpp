// SentencePiece-style BPE by merge scores with byte fallback, as llama2.c's run.c `encode` and
// llama.cpp's SPM tokenizer do it:
//   1. optional BOS; for non-empty text and add_dummy_prefix, a space is put in front;
//   2. the text is cut into UTF-8 characters (bytes of ill-formed sequences each on their own),
//      a space being spelled '▁' when the vocabulary uses that marker;
//   3. a character that is a vocabulary piece is that token, any other falls back to its bytes
//      (pieces "<0xXX>"), or to the unknown token when the vocabulary has no byte pieces;
//   4. the adjacent pair whose concatenation is a piece of the highest score is merged (ties: the
//      leftmost pair), again and again until no pair is a piece.
// Step 4 runs on a doubly linked list of symbols with a priority queue of candidate pairs; a
// queued pair gone stale (a side merged elsewhere since) is recognised and skipped when popped.
// This gives exactly the choice of a full rescan at each step in O(n log n).
//
// Offsets: each token covers the source bytes of the characters it was merged from. The dummy
// prefix covers none ([0,0)), so "▁the" made of it and "the" covers "the". Byte-fallback tokens
// cover one source byte each, so the spans of all tokens concatenate back to the source text.
#include "headscope/error.hpp"
#include "headscope/tokenizer.hpp"
#include "tokenizers/byte_piece.hpp"
#include "tokenizers/utf8.hpp"

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <queue>
#include <unordered_map>
#include <utility>

namespace headscope {

namespace {

constexpr std::string_view kSpaceMarker = "\xE2\x96\x81";  // U+2581 '▁'
// What SentencePiece's decoder prints for the unknown token (" ⁇ ", U+2047).
constexpr std::string_view kUnknownSurface = " \xE2\x81\x87 ";

std::string replace_all(std::string_view text, std::string_view from, std::string_view to) {
    std::string out;
    out.reserve(text.size());
    std::size_t pos = 0;
    while (true) {
        const std::size_t hit = text.find(from, pos);
        if (hit == std::string_view::npos) break;
        out.append(text.substr(pos, hit - pos));
        out.append(to);
        pos = hit + from.size();
    }
    out.append(text.substr(pos));
    return out;
}

// GGUF readers may hand over token types outside the enum (e.g. 0, "undefined"): those are
// ordinary pieces.
TokenKind known_kind(TokenKind kind) {
    switch (kind) {
        case TokenKind::unknown:
        case TokenKind::control:
        case TokenKind::user_defined:
        case TokenKind::unused:
        case TokenKind::byte:
            return kind;
        default:
            return TokenKind::normal;
    }
}

class SentencePieceTokenizer final : public Tokenizer {
public:
    explicit SentencePieceTokenizer(Vocabulary vocab);
    // piece_ids_ holds views into vocab_.pieces: the object stays where it was built.
    SentencePieceTokenizer(const SentencePieceTokenizer&) = delete;
    SentencePieceTokenizer& operator=(const SentencePieceTokenizer&) = delete;

    Encoding encode(std::string_view text, bool add_bos) const override;
    std::string decode(const std::vector<int32_t>& ids) const override;
    std::string token_text(int32_t id) const override;
    std::string piece(int32_t id) const override;
    int32_t vocab_size() const override { return static_cast<int32_t>(vocab_.pieces.size()); }
    int32_t bos_id() const override { return vocab_.bos_id; }
    int32_t eos_id() const override { return vocab_.eos_id; }

private:
    // One run of the text during merging: bytes [nb, ne) of the normalised text, bytes [sb, se)
    // of the source text, and the piece it spells (-1: not a piece; falls back to bytes).
    struct Symbol {
        std::size_t nb = 0, ne = 0;
        std::size_t sb = 0, se = 0;
        std::ptrdiff_t prev = -1, next = -1;
        int32_t id = -1;
        bool alive = true;
    };
    // A candidate merge of symbols left and right (adjacent when queued) into piece id.
    struct Bigram {
        float score;
        std::ptrdiff_t left, right;
        std::size_t length;  // bytes of the merged text, to recognise a stale entry
        int32_t id;
        // Max-heap order: higher score first, then the leftmost pair.
        bool operator<(const Bigram& other) const {
            if (score != other.score) return score < other.score;
            return left > other.left;
        }
    };

    void validate_and_fill_kinds();
    int32_t lookup(std::string_view text) const;
    void check_id(int32_t id) const;
    void emit_fallback(const Symbol& symbol, std::string_view normalised, Encoding& out) const;

    Vocabulary vocab_;
    std::vector<float> merge_scores_;  // vocab scores with NaN as -inf (a strict order)
    std::unordered_map<std::string_view, int32_t> piece_ids_;  // mergeable pieces only
    std::array<int32_t, 256> byte_ids_{};                      // -1: no "<0xXX>" piece
    std::vector<std::string> texts_;                           // token_text per id
    std::string_view space_;  // how the vocabulary spells a space
};

SentencePieceTokenizer::SentencePieceTokenizer(Vocabulary vocab) : vocab_(std::move(vocab)) {
    validate_and_fill_kinds();
    const std::size_t n = vocab_.pieces.size();
    space_ = vocab_.uses_space_marker ? kSpaceMarker : std::string_view(" ");

    merge_scores_.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        const float s = vocab_.scores[i];
        merge_scores_[i] = std::isnan(s) ? -std::numeric_limits<float>::infinity() : s;
    }

    byte_ids_.fill(-1);
    texts_.resize(n);
    piece_ids_.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        const std::string& p = vocab_.pieces[i];
        const auto id = static_cast<int32_t>(i);
        switch (vocab_.kinds[i]) {
            case TokenKind::control:
            case TokenKind::unused:
                break;  // text stays ""
            case TokenKind::unknown:
                texts_[i] = std::string(kUnknownSurface);
                break;
            case TokenKind::byte: {
                const int b = spm::parse_byte_piece(p);
                if (b >= 0) {
                    if (byte_ids_[static_cast<std::size_t>(b)] < 0) byte_ids_[static_cast<std::size_t>(b)] = id;
                    texts_[i] = std::string(1, static_cast<char>(b));
                } else {
                    texts_[i] = p;  // a byte-typed piece of another spelling: show it as it is
                }
                break;
            }
            case TokenKind::normal:
            case TokenKind::user_defined:
                texts_[i] = vocab_.uses_space_marker ? replace_all(p, kSpaceMarker, " ") : p;
                // The first of duplicated pieces wins; empty pieces can never match.
                if (!p.empty()) piece_ids_.emplace(std::string_view(p), id);
                break;
        }
    }
}

void SentencePieceTokenizer::validate_and_fill_kinds() {
    const std::size_t n = vocab_.pieces.size();
    if (n == 0) throw UsageError("sentencepiece tokenizer: the vocabulary has no pieces");
    if (n > static_cast<std::size_t>(std::numeric_limits<int32_t>::max()))
        throw UsageError(fmt::format("sentencepiece tokenizer: {} pieces do not fit 32-bit token ids", n));
    if (vocab_.scores.size() != n)
        throw UsageError(fmt::format(
            "sentencepiece tokenizer: the vocabulary has {} pieces but {} scores (one per piece expected)", n,
            vocab_.scores.size()));
    if (!vocab_.kinds.empty() && vocab_.kinds.size() != n)
        throw UsageError(fmt::format(
            "sentencepiece tokenizer: the vocabulary has {} pieces but {} token kinds (one per piece, or none, "
            "expected)",
            n, vocab_.kinds.size()));
    const auto check_special = [n](const char* name, int id) {
        if (id < -1 || id >= static_cast<int64_t>(n))
            throw UsageError(fmt::format(
                "sentencepiece tokenizer: {} id {} is outside the vocabulary of {} pieces (use -1 for none)", name,
                id, n));
    };
    check_special("BOS", vocab_.bos_id);
    check_special("EOS", vocab_.eos_id);
    check_special("unknown-token", vocab_.unk_id);

    if (vocab_.kinds.empty()) {
        // llama2.c's tokenizer.bin carries no kinds: "<0xXX>" pieces are bytes, and the
        // BOS/EOS/unknown ids are what the vocabulary names them.
        vocab_.kinds.assign(n, TokenKind::normal);
        for (std::size_t i = 0; i < n; ++i)
            if (spm::parse_byte_piece(vocab_.pieces[i]) >= 0) vocab_.kinds[i] = TokenKind::byte;
        if (vocab_.unk_id >= 0) vocab_.kinds[static_cast<std::size_t>(vocab_.unk_id)] = TokenKind::unknown;
        if (vocab_.bos_id >= 0) vocab_.kinds[static_cast<std::size_t>(vocab_.bos_id)] = TokenKind::control;
        if (vocab_.eos_id >= 0) vocab_.kinds[static_cast<std::size_t>(vocab_.eos_id)] = TokenKind::control;
    } else {
        for (auto& kind : vocab_.kinds) kind = known_kind(kind);
    }
}

int32_t SentencePieceTokenizer::lookup(std::string_view text) const {
    const auto it = piece_ids_.find(text);
    return it == piece_ids_.end() ? -1 : it->second;
}

void SentencePieceTokenizer::check_id(int32_t id) const {
    if (id < 0 || static_cast<std::size_t>(id) >= vocab_.pieces.size())
        throw UsageError(fmt::format("token id {} is outside the vocabulary (valid ids: 0..{})", id,
                                     vocab_.pieces.size() - 1));
}

void SentencePieceTokenizer::emit_fallback(const Symbol& symbol, std::string_view normalised,
                                           Encoding& out) const {
    const std::string_view bytes = normalised.substr(symbol.nb, symbol.ne - symbol.nb);
    bool all_bytes = true;
    for (char c : bytes) all_bytes = all_bytes && byte_ids_[static_cast<unsigned char>(c)] >= 0;
    if (all_bytes) {
        // One source byte per byte token when the symbol's text is its source text; a dummy
        // space or a space spelled '▁' gives its source span to the first byte token.
        const bool one_to_one = symbol.se - symbol.sb == bytes.size();
        for (std::size_t k = 0; k < bytes.size(); ++k) {
            out.ids.push_back(byte_ids_[static_cast<unsigned char>(bytes[k])]);
            if (one_to_one)
                out.offsets.emplace_back(symbol.sb + k, symbol.sb + k + 1);
            else if (k == 0)
                out.offsets.emplace_back(symbol.sb, symbol.se);
            else
                out.offsets.emplace_back(symbol.se, symbol.se);
        }
        return;
    }
    if (vocab_.unk_id >= 0) {
        out.ids.push_back(vocab_.unk_id);
        out.offsets.emplace_back(symbol.sb, symbol.se);
        return;
    }
    unsigned char missing = 0;
    for (char c : bytes)
        if (byte_ids_[static_cast<unsigned char>(c)] < 0) {
            missing = static_cast<unsigned char>(c);
            break;
        }
    throw UsageError(fmt::format(
        "cannot encode the text at byte offset {}: it is no vocabulary piece, the vocabulary has no byte "
        "piece {} to fall back to and no unknown token",
        symbol.sb, spm::byte_piece_name(missing)));
}

Encoding SentencePieceTokenizer::encode(std::string_view text, bool add_bos) const {
    Encoding out;
    if (add_bos) {
        if (vocab_.bos_id < 0) throw UsageError("cannot add BOS: the vocabulary has no BOS token");
        out.ids.push_back(vocab_.bos_id);
        out.offsets.emplace_back(0, 0);
    }
    if (text.empty()) return out;

    // Normalised text (dummy prefix, spaces as the vocabulary spells them) and its symbols.
    std::string normalised;
    normalised.reserve(text.size() + space_.size() * 4);
    std::vector<Symbol> symbols;
    symbols.reserve(text.size() + 1);
    const auto add_symbol = [&](std::size_t sb, std::size_t se, std::string_view unit) {
        Symbol s;
        s.nb = normalised.size();
        normalised.append(unit);
        s.ne = normalised.size();
        s.sb = sb;
        s.se = se;
        symbols.push_back(s);
    };
    if (vocab_.add_dummy_prefix) add_symbol(0, 0, space_);
    for (std::size_t pos = 0; pos < text.size();) {
        std::size_t n = utf8::sequence_length(text, pos);
        if (n == 0) n = 1;  // a byte of an ill-formed sequence stands alone (and falls back)
        std::string_view unit = text.substr(pos, n);
        if (unit == " ") unit = space_;
        add_symbol(pos, pos + n, unit);
        pos += n;
    }

    const std::string_view norm(normalised);
    const auto count = static_cast<std::ptrdiff_t>(symbols.size());
    for (std::ptrdiff_t i = 0; i < count; ++i) {
        Symbol& s = symbols[static_cast<std::size_t>(i)];
        s.id = lookup(norm.substr(s.nb, s.ne - s.nb));
        s.prev = i - 1;
        s.next = i + 1 < count ? i + 1 : -1;
    }

    std::priority_queue<Bigram> queue;
    const auto try_pair = [&](std::ptrdiff_t left, std::ptrdiff_t right) {
        if (left < 0 || right < 0) return;
        const Symbol& l = symbols[static_cast<std::size_t>(left)];
        const Symbol& r = symbols[static_cast<std::size_t>(right)];
        if (l.id < 0 || r.id < 0) return;  // byte-fallback runs never merge
        const std::string_view merged = norm.substr(l.nb, r.ne - l.nb);
        const int32_t id = lookup(merged);
        if (id < 0) return;
        queue.push(Bigram{merge_scores_[static_cast<std::size_t>(id)], left, right, merged.size(), id});
    };
    for (std::ptrdiff_t i = 0; i + 1 < count; ++i) try_pair(i, i + 1);

    while (!queue.empty()) {
        const Bigram b = queue.top();
        queue.pop();
        Symbol& l = symbols[static_cast<std::size_t>(b.left)];
        Symbol& r = symbols[static_cast<std::size_t>(b.right)];
        // Stale when either side has merged with another neighbour since it was queued.
        if (!l.alive || !r.alive || l.next != b.right || r.ne - l.nb != b.length) continue;
        l.ne = r.ne;
        l.se = r.se;
        l.id = b.id;
        l.next = r.next;
        r.alive = false;
        if (r.next >= 0) symbols[static_cast<std::size_t>(r.next)].prev = b.left;
        try_pair(l.prev, b.left);
        try_pair(b.left, l.next);
    }

    out.ids.reserve(out.ids.size() + symbols.size());
    out.offsets.reserve(out.ids.capacity());
    // Symbol 0 only ever absorbs its right neighbours, so the list starts there.
    for (std::ptrdiff_t i = 0; i >= 0; i = symbols[static_cast<std::size_t>(i)].next) {
        const Symbol& s = symbols[static_cast<std::size_t>(i)];
        if (s.id >= 0) {
            out.ids.push_back(s.id);
            out.offsets.emplace_back(s.sb, s.se);
        } else {
            emit_fallback(s, norm, out);
        }
    }
    return out;
}

std::string SentencePieceTokenizer::decode(const std::vector<int32_t>& ids) const {
    std::string out;
    // SentencePiece strips the space that the dummy prefix put in front of the text: the
    // leading space of the first text at the start and after each BOS.
    bool at_start = true;
    for (const int32_t id : ids) {
        check_id(id);
        if (id == vocab_.bos_id) {
            at_start = true;
            continue;
        }
        const std::string& text = texts_[static_cast<std::size_t>(id)];
        if (text.empty()) continue;
        if (at_start && vocab_.add_dummy_prefix && text.front() == ' ')
            out.append(text, 1, std::string::npos);
        else
            out.append(text);
        at_start = false;
    }
    return out;
}

std::string SentencePieceTokenizer::token_text(int32_t id) const {
    check_id(id);
    return texts_[static_cast<std::size_t>(id)];
}

std::string SentencePieceTokenizer::piece(int32_t id) const {
    check_id(id);
    return vocab_.pieces[static_cast<std::size_t>(id)];
}

}  // namespace

std::unique_ptr<Tokenizer> make_sentencepiece_tokenizer(Vocabulary vocab) {
    return std::make_unique<SentencePieceTokenizer>(std::move(vocab));
}

}  // namespace headscope
