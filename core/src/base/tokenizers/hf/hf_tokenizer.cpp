#include "tokenizers/hf/hf_tokenizer.hpp"

#include "headscope/error.hpp"
#include "tokenizers/hf/special_tokens.hpp"

namespace headscope::hf_tok {
namespace {

// model_entries: the model vocabulary's size; ids may reach BpeModel::max_id_for(all tokens).
std::vector<AddedToken> parse_added_tokens(const Json& root, const JsonReader& reader, size_t model_entries) {
    std::vector<AddedToken> tokens;
    if (JsonReader::member(root, "added_tokens") == nullptr) return tokens;
    const Json& list = reader.array(root, "added_tokens", "");
    const int64_t max_id = BpeModel::max_id_for(model_entries + list.size());
    for (size_t i = 0; i < list.size(); ++i) {
        const std::string at = JsonReader::path("added_tokens", i);
        const Json& item = list[i];
        if (!item.is_object()) {
            reader.fail(at, "expected an object, found " + JsonReader::type_name(item));
        }
        AddedToken t;
        const int64_t id = reader.integer(item, "id", at);
        if (id < 0 || id > max_id) {
            reader.fail(JsonReader::path(at, "id"), "id " + std::to_string(id) + " is out of range [0, " +
                                                        std::to_string(max_id) + "] (the limit for " +
                                                        std::to_string(model_entries + list.size()) +
                                                        " tokens: 2 x tokens + 65536)");
        }
        t.id = static_cast<int32_t>(id);
        t.content = reader.string(item, "content", at);
        if (t.content.empty()) reader.fail(JsonReader::path(at, "content"), "empty token text");
        t.single_word = reader.boolean_or(item, "single_word", at, false);
        t.lstrip = reader.boolean_or(item, "lstrip", at, false);
        t.rstrip = reader.boolean_or(item, "rstrip", at, false);
        t.normalized = reader.boolean_or(item, "normalized", at, true);
        t.special = reader.boolean_or(item, "special", at, false);
        tokens.push_back(std::move(t));
    }
    return tokens;
}

// Refuses models other than BPE with a message that says so.
void check_model_type(const Json& model, const JsonReader& reader) {
    const Json* type = JsonReader::member(model, "type");
    std::string name;
    if (type == nullptr) {
        // Old files omit the type; a BPE model is the one with merges.
        if (JsonReader::member(model, "merges") != nullptr) return;
        if (const Json* vocab = JsonReader::member(model, "vocab"); vocab && vocab->is_array()) {
            name = "Unigram";
        } else {
            reader.fail("model.type", "missing, and the model has no merges (only BPE models are "
                                      "supported)");
        }
    } else {
        name = reader.string(model, "type", "model");
    }
    if (name != "BPE") {
        reader.fail("model.type", "model type \"" + name +
                                      "\" is not supported (only BPE tokenizers are; WordPiece, "
                                      "WordLevel and Unigram models are not)");
    }
}

}  // namespace

HfTokenizer::HfTokenizer(const Json& root, const std::string& file,
                         const std::string& tokenizer_config_path,
                         std::optional<SpecialTokenIds> fixed_special)
    : file_(file) {
    const JsonReader reader(file);
    if (!root.is_object()) {
        reader.fail("", "expected a JSON object at the top level, found " +
                            JsonReader::type_name(root));
    }
    const Json& model = reader.object(root, "model", "");
    check_model_type(model, reader);

    const Json null_value;
    const auto section = [&](const char* key) -> const Json& {
        const Json* v = JsonReader::member(root, key);
        return v == nullptr ? null_value : *v;
    };
    normalizer_ = parse_normalizer(section("normalizer"), reader, "normalizer");
    pre_tokenizer_ = parse_pre_tokenizer(section("pre_tokenizer"), reader, "pre_tokenizer");
    decoder_ = parse_decoder(section("decoder"), reader, "decoder");
    model_ = std::make_unique<BpeModel>(model, reader, "model");
    try {  // added tokens with normalized=true go through the normalizer
        added_ = std::make_unique<AddedVocabulary>(parse_added_tokens(root, reader, model_->size()),
                                                   normalizer_.get());
    } catch (const TextGrowthError& e) {
        reader.fail("added_tokens", std::string("normalizing a token: ") + e.what());
    } catch (const RegexMatchError& e) {
        reader.fail("added_tokens", std::string("normalizing a token: ") + e.what());
    }

    // id -> piece table over the model vocabulary and the added tokens.
    int32_t limit = model_->id_limit();
    for (const AddedToken& t : added_->tokens()) limit = std::max(limit, t.id + 1);
    pieces_.assign(static_cast<size_t>(limit), std::string());
    kinds_.assign(static_cast<size_t>(limit), PieceKind::none);
    for (int32_t id = 0; id < model_->id_limit(); ++id) {
        if (const std::string* p = model_->id_to_token(id)) {
            pieces_[static_cast<size_t>(id)] = *p;
            kinds_[static_cast<size_t>(id)] = PieceKind::model;
        }
    }
    for (const AddedToken& t : added_->tokens()) {
        pieces_[static_cast<size_t>(t.id)] = t.content;
        kinds_[static_cast<size_t>(t.id)] = t.special ? PieceKind::special : PieceKind::added;
    }

    const auto lookup = [this](std::string_view text) -> int32_t {
        if (const AddedToken* t = added_->find_by_content(text)) return t->id;
        return model_->token_to_id(text);
    };
    const SpecialTokenIds special =
        fixed_special ? *fixed_special : find_special_token_ids(root, lookup, tokenizer_config_path);
    const auto valid = [this](int32_t id) {
        return id >= 0 && id < vocab_size() && kinds_[static_cast<size_t>(id)] != PieceKind::none
                   ? id
                   : -1;
    };
    bos_id_ = valid(special.bos);
    eos_id_ = valid(special.eos);
}

void HfTokenizer::encode_text(const NormalizedText& text, Encoding& out) const {
    std::vector<NormalizedText> words;
    words.push_back(text);
    if (pre_tokenizer_) {
        pre_tokenizer_->pre_tokenize(words);
        NormalizedText::check_growth(words);
    }
    std::vector<BpeModel::Piece> pieces;
    for (const NormalizedText& word : words) {
        pieces.clear();
        model_->tokenize(word.text(), pieces);
        for (const BpeModel::Piece& p : pieces) {
            const Span span = word.original_span(p.begin, p.end);
            out.ids.push_back(p.id);
            out.offsets.emplace_back(span.begin, span.end);
        }
    }
}

template <class Body>
auto HfTokenizer::naming_file(Body body) const -> decltype(body()) {
    try {
        return body();
    } catch (const TextGrowthError& e) {
        throw FormatError(file_, std::string(e.what()) +
                                     ": the normalizer / pre_tokenizer chain is degenerate");
    } catch (const RegexMatchError& e) {
        throw FormatError(file_, e.what());
    }
}

Encoding HfTokenizer::encode(std::string_view text, bool add_bos) const {
    return naming_file([&] { return encode_segments(text, add_bos); });
}

Encoding HfTokenizer::encode_segments(std::string_view text, bool add_bos) const {
    Encoding out;
    // Without a BOS token (bos_id() == -1) add_bos has nothing to add.
    if (add_bos && bos_id_ >= 0) {
        out.ids.push_back(bos_id_);
        out.offsets.emplace_back(0, 0);
    }
    for (const AddedVocabulary::Segment& raw : added_->split_raw(text)) {
        if (raw.id >= 0) {
            out.ids.push_back(raw.id);
            out.offsets.emplace_back(raw.span.begin, raw.span.end);
            continue;
        }
        NormalizedText normalized(text.substr(raw.span.begin, raw.span.end - raw.span.begin),
                                  raw.span.begin);
        if (normalizer_) normalizer_->normalize(normalized);
        for (const AddedVocabulary::Segment& seg : added_->split_normalized(normalized.text())) {
            if (seg.id >= 0) {
                const Span span = normalized.original_span(seg.span.begin, seg.span.end);
                out.ids.push_back(seg.id);
                out.offsets.emplace_back(span.begin, span.end);
            } else {
                encode_text(normalized.slice(seg.span.begin, seg.span.end), out);
            }
        }
    }
    return out;
}

void HfTokenizer::check_id(int32_t id, const char* what) const {
    if (id < 0 || id >= vocab_size()) {
        throw UsageError(std::string(what) + ": token id " + std::to_string(id) +
                         " is outside the vocabulary [0, " + std::to_string(vocab_size()) +
                         ") of " + file_);
    }
}

std::string HfTokenizer::decode(const std::vector<int32_t>& ids) const {
    return naming_file([&] { return decode_pieces(ids); });
}

std::string HfTokenizer::decode_pieces(const std::vector<int32_t>& ids) const {
    std::vector<std::string> pieces;
    pieces.reserve(ids.size());
    for (const int32_t id : ids) {
        check_id(id, "decode");
        if (kinds_[static_cast<size_t>(id)] == PieceKind::none) continue;  // a gap in the ids
        pieces.push_back(pieces_[static_cast<size_t>(id)]);
    }
    std::string text;
    if (!decoder_) {  // HF joins raw pieces with spaces when there is no decoder
        for (size_t i = 0; i < pieces.size(); ++i) text += (i ? " " : "") + pieces[i];
        return text;
    }
    decoder_->decode_chain(pieces, false);
    for (const std::string& p : pieces) text += p;
    return text;
}

std::string HfTokenizer::token_text(int32_t id) const {
    check_id(id, "token_text");
    const PieceKind kind = kinds_[static_cast<size_t>(id)];
    if (kind == PieceKind::none || kind == PieceKind::special) return "";
    std::vector<std::string> pieces{pieces_[static_cast<size_t>(id)]};
    if (!decoder_) return pieces[0];
    naming_file([&] { decoder_->decode_chain(pieces, true); });
    std::string text;
    for (const std::string& p : pieces) text += p;
    return text;
}

std::string HfTokenizer::piece(int32_t id) const {
    check_id(id, "piece");
    return pieces_[static_cast<size_t>(id)];
}

}  // namespace headscope::hf_tok
