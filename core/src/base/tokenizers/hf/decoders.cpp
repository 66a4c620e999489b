#include "tokenizers/hf/decoders.hpp"

#include <optional>

#include "tokenizers/hf/byte_level_map.hpp"
#include "tokenizers/hf/pre_tokenizers.hpp"
#include "tokenizers/hf/utf8.hpp"

namespace headscope::hf_tok {
namespace {

// Replaces every occurrence of `from` in `s` by `to`.
std::string replace_all(const std::string& s, const std::string& from, const std::string& to) {
    if (from.empty()) return s;
    std::string out;
    size_t prev = 0;
    for (size_t hit = s.find(from); hit != std::string::npos; hit = s.find(from, prev)) {
        out.append(s, prev, hit - prev);
        out += to;
        prev = hit + from.size();
    }
    out.append(s, prev, std::string::npos);
    return out;
}

class ByteLevelDecoder final : public Decoder {
public:
    void decode_chain(std::vector<std::string>& pieces, bool) const override {
        std::string bytes;
        for (const std::string& piece : pieces) {
            // A piece made only of map characters becomes its bytes; any other piece (an added
            // token such as "<|endoftext|>" written with spaces) is kept as written.
            std::string mapped;
            bool all_mapped = true;
            for (size_t pos = 0; pos < piece.size();) {
                const Utf8Char c = next_utf8_char(piece, pos);
                const std::optional<uint8_t> b =
                    c.code_point == kInvalidCodePoint
                        ? std::nullopt
                        : unicode_to_byte(static_cast<uint32_t>(c.code_point));
                if (!b) {
                    all_mapped = false;
                    break;
                }
                mapped.push_back(static_cast<char>(*b));
                pos += c.length;
            }
            bytes += all_mapped ? mapped : piece;
        }
        pieces.assign(1, std::move(bytes));
    }
};

// '▁' becomes ' '; the first token of a text loses its leading '▁' (the one the pre-tokenizer
// prepended) unless prepend_scheme is "never". HF drops every '▁' of that first token; only the
// leading one is dropped here, as SentencePiece does, so a first token "▁▁" keeps one space.
class MetaspaceDecoder final : public Decoder {
public:
    MetaspaceDecoder(std::string replacement, PrependScheme scheme)
        : replacement_(std::move(replacement)), scheme_(scheme) {}
    void decode_chain(std::vector<std::string>& pieces, bool single_piece) const override {
        for (size_t i = 0; i < pieces.size(); ++i) {
            std::string& p = pieces[i];
            const bool drop_leading =
                i == 0 && !single_piece && scheme_ != PrependScheme::never &&
                p.compare(0, replacement_.size(), replacement_) == 0;
            if (drop_leading) p.erase(0, replacement_.size());
            p = replace_all(p, replacement_, " ");
        }
    }

private:
    std::string replacement_;
    PrependScheme scheme_;
};

class ReplaceDecoder final : public Decoder {
public:
    ReplaceDecoder(TextPattern pattern, std::string content)
        : pattern_(std::move(pattern)), content_(std::move(content)) {}
    void decode_chain(std::vector<std::string>& pieces, bool) const override {
        for (std::string& p : pieces) {
            std::string out;
            for (const PatternPiece& run : pattern_.find_matches(p)) {
                if (run.is_match) {
                    out += content_;
                } else {
                    out.append(p, run.span.begin, run.span.end - run.span.begin);
                }
            }
            p = std::move(out);
        }
    }

private:
    TextPattern pattern_;
    std::string content_;
};

class ByteFallbackDecoder final : public Decoder {
public:
    void decode_chain(std::vector<std::string>& pieces, bool) const override {
        std::vector<std::string> out;
        std::string pending;  // bytes of consecutive <0xXX> pieces
        bool have_pending = false;
        for (std::string& p : pieces) {
            if (const auto b = byte_of(p)) {
                pending.push_back(static_cast<char>(*b));
                have_pending = true;
                continue;
            }
            if (have_pending) out.push_back(std::move(pending));
            pending.clear();
            have_pending = false;
            out.push_back(std::move(p));
        }
        if (have_pending) out.push_back(std::move(pending));
        pieces = std::move(out);
    }

private:
    static std::optional<uint8_t> byte_of(const std::string& p) {
        if (p.size() != 6 || p.compare(0, 3, "<0x") != 0 || p[5] != '>') return std::nullopt;
        const auto hex = [](char c) -> int {
            if (c >= '0' && c <= '9') return c - '0';
            if (c >= 'a' && c <= 'f') return c - 'a' + 10;
            if (c >= 'A' && c <= 'F') return c - 'A' + 10;
            return -1;
        };
        const int hi = hex(p[3]);
        const int lo = hex(p[4]);
        if (hi < 0 || lo < 0) return std::nullopt;
        return static_cast<uint8_t>(hi * 16 + lo);
    }
};

class FuseDecoder final : public Decoder {
public:
    void decode_chain(std::vector<std::string>& pieces, bool) const override {
        std::string all;
        for (const std::string& p : pieces) all += p;
        pieces.assign(1, std::move(all));
    }
};

class StripDecoder final : public Decoder {
public:
    StripDecoder(std::string content, size_t start, size_t stop)
        : content_(std::move(content)), start_(start), stop_(stop) {}
    void decode_chain(std::vector<std::string>& pieces, bool single_piece) const override {
        if (single_piece) return;
        for (std::string& p : pieces) {
            size_t begin = 0;
            for (size_t i = 0; i < start_ && p.compare(begin, content_.size(), content_) == 0;
                 ++i) {
                begin += content_.size();
            }
            size_t end = p.size();
            for (size_t i = 0; i < stop_ && end >= begin + content_.size() &&
                               p.compare(end - content_.size(), content_.size(), content_) == 0;
                 ++i) {
                end -= content_.size();
            }
            p = p.substr(begin, end - begin);
        }
    }

private:
    std::string content_;
    size_t start_;
    size_t stop_;
};

// BPEDecoder: the end-of-word suffix becomes a space (none after the last piece).
class BpeSuffixDecoder final : public Decoder {
public:
    explicit BpeSuffixDecoder(std::string suffix) : suffix_(std::move(suffix)) {}
    void decode_chain(std::vector<std::string>& pieces, bool single_piece) const override {
        for (size_t i = 0; i < pieces.size(); ++i) {
            const bool last = i + 1 == pieces.size() && !single_piece;
            pieces[i] = replace_all(pieces[i], suffix_, last ? "" : " ");
        }
    }

private:
    std::string suffix_;
};

class SequenceDecoder final : public Decoder {
public:
    explicit SequenceDecoder(std::vector<std::unique_ptr<Decoder>> steps)
        : steps_(std::move(steps)) {}
    void decode_chain(std::vector<std::string>& pieces, bool single_piece) const override {
        for (const auto& step : steps_) step->decode_chain(pieces, single_piece);
    }

private:
    std::vector<std::unique_ptr<Decoder>> steps_;
};

}  // namespace

std::unique_ptr<Decoder> parse_decoder(const Json& config, const JsonReader& reader,
                                       const std::string& where) {
    if (config.is_null()) return nullptr;
    const std::string type = reader.component_type(config, where);
    if (type == "Sequence")
        return std::make_unique<SequenceDecoder>(reader.sequence<Decoder>(config, "decoders", where, "a decoder", parse_decoder));
    if (type == "ByteLevel") return std::make_unique<ByteLevelDecoder>();
    if (type == "Metaspace") {
        return std::make_unique<MetaspaceDecoder>(reader.single_char(config, "replacement", where),
                                                  parse_prepend_scheme(config, reader, where));
    }
    if (type == "Replace") {
        return std::make_unique<ReplaceDecoder>(reader.pattern(config, "pattern", where),
                                                reader.string(config, "content", where));
    }
    if (type == "ByteFallback") return std::make_unique<ByteFallbackDecoder>();
    if (type == "Fuse") return std::make_unique<FuseDecoder>();
    if (type == "Strip") {
        const int64_t start = reader.integer_or(config, "start", where, 0);
        const int64_t stop = reader.integer_or(config, "stop", where, 0);
        if (start < 0 || stop < 0) reader.fail(where, "start and stop must not be negative");
        return std::make_unique<StripDecoder>(reader.single_char(config, "content", where),
                                              static_cast<size_t>(start),
                                              static_cast<size_t>(stop));
    }
    if (type == "BPEDecoder") {
        return std::make_unique<BpeSuffixDecoder>(
            reader.string_or(config, "suffix", where, "</w>"));
    }
    reader.fail(JsonReader::path(where, "type"),
                "unsupported decoder \"" + type +
                    "\" (supported: ByteLevel, Metaspace, Replace, ByteFallback, Fuse, Strip, "
                    "BPEDecoder, Sequence)");
}

}  // namespace headscope::hf_tok
