#include "tokenizers/hf/pre_tokenizers.hpp"

#include <stdexcept>

namespace headscope::hf_tok {

const char* const kGpt2SplitPattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

namespace {

// Applies `cut` to every split and flattens the results in order.
template <typename Cut>
void split_each(std::vector<NormalizedText>& splits, Cut cut) {
    std::vector<NormalizedText> out;
    out.reserve(splits.size());
    for (NormalizedText& s : splits) {
        for (NormalizedText& piece : cut(s)) {
            if (!piece.empty()) out.push_back(std::move(piece));
        }
    }
    splits = std::move(out);
}

class ByteLevelPreTokenizer final : public PreTokenizer {
public:
    ByteLevelPreTokenizer(bool add_prefix_space, bool use_regex)
        : add_prefix_space_(add_prefix_space) {
        if (use_regex) regex_ = std::make_shared<const TextPattern>(
            TextPattern::regex(kGpt2SplitPattern));
    }
    void pre_tokenize(std::vector<NormalizedText>& splits) const override {
        split_each(splits, [&](NormalizedText& s) {
            if (add_prefix_space_ && s.text().compare(0, 1, " ") != 0) s.prepend(" ");
            std::vector<NormalizedText> words;
            if (regex_) {
                words = s.split(regex_->find_matches(s.text()), SplitBehavior::isolated);
            } else {
                words.push_back(std::move(s));
            }
            for (NormalizedText& w : words) w.map_bytes_to_unicode();
            return words;
        });
    }

private:
    bool add_prefix_space_;
    std::shared_ptr<const TextPattern> regex_;
};

class SplitPreTokenizer final : public PreTokenizer {
public:
    SplitPreTokenizer(TextPattern pattern, SplitBehavior behavior, bool invert)
        : pattern_(std::move(pattern)), behavior_(behavior), invert_(invert) {}
    void pre_tokenize(std::vector<NormalizedText>& splits) const override {
        split_each(splits, [&](NormalizedText& s) {
            return s.split(pattern_.find_matches(s.text(), invert_), behavior_);
        });
    }

private:
    TextPattern pattern_;
    SplitBehavior behavior_;
    bool invert_;
};

class MetaspacePreTokenizer final : public PreTokenizer {
public:
    MetaspacePreTokenizer(std::string replacement, PrependScheme scheme, bool split)
        : replacement_(std::move(replacement)),
          space_(TextPattern::literal(" ")),
          marker_(TextPattern::literal(replacement_)),
          scheme_(scheme),
          split_(split) {}
    void pre_tokenize(std::vector<NormalizedText>& splits) const override {
        split_each(splits, [&](NormalizedText& s) {
            s.replace(space_.find_matches(s.text()), replacement_);
            const bool starts_with_marker = s.text().compare(0, replacement_.size(),
                                                             replacement_) == 0;
            const bool prepend =
                !starts_with_marker &&
                (scheme_ == PrependScheme::always ||
                 (scheme_ == PrependScheme::first && s.original_begin() == 0));
            if (prepend) s.prepend(replacement_);
            if (!split_) return std::vector<NormalizedText>{std::move(s)};
            return s.split(marker_.find_matches(s.text()), SplitBehavior::merged_with_next);
        });
    }

private:
    std::string replacement_;
    TextPattern space_;
    TextPattern marker_;
    PrependScheme scheme_;
    bool split_;
};

class SequencePreTokenizer final : public PreTokenizer {
public:
    explicit SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> steps)
        : steps_(std::move(steps)) {}
    void pre_tokenize(std::vector<NormalizedText>& splits) const override {
        for (const auto& step : steps_) {
            step->pre_tokenize(splits);
            NormalizedText::check_growth(splits);
        }
    }

private:
    std::vector<std::unique_ptr<PreTokenizer>> steps_;
};

SplitBehavior parse_behavior(const Json& config, const JsonReader& reader,
                             const std::string& where) {
    const std::string name = reader.string(config, "behavior", where);
    if (name == "Removed") return SplitBehavior::removed;
    if (name == "Isolated") return SplitBehavior::isolated;
    if (name == "MergedWithPrevious") return SplitBehavior::merged_with_previous;
    if (name == "MergedWithNext") return SplitBehavior::merged_with_next;
    if (name == "Contiguous") return SplitBehavior::contiguous;
    reader.fail(JsonReader::path(where, "behavior"),
                "unknown split behavior \"" + name +
                    "\" (expected Removed, Isolated, MergedWithPrevious, MergedWithNext or "
                    "Contiguous)");
}

}  // namespace

PrependScheme parse_prepend_scheme(const Json& config, const JsonReader& reader,
                                   const std::string& where) {
    const Json* scheme_value = JsonReader::member(config, "prepend_scheme");
    PrependScheme scheme = PrependScheme::always;
    if (scheme_value != nullptr) {
        const std::string name = reader.string(config, "prepend_scheme", where);
        if (name == "always") {
            scheme = PrependScheme::always;
        } else if (name == "first") {
            scheme = PrependScheme::first;
        } else if (name == "never") {
            scheme = PrependScheme::never;
        } else {
            reader.fail(JsonReader::path(where, "prepend_scheme"),
                        "unknown prepend_scheme \"" + name + "\" (expected first, always or never)");
        }
    }
    const Json* legacy = JsonReader::member(config, "add_prefix_space");
    if (legacy != nullptr && !reader.boolean_or(config, "add_prefix_space", where, true)) {
        if (scheme_value != nullptr && scheme != PrependScheme::never) {
            reader.fail(where, "add_prefix_space is false but prepend_scheme is not \"never\"");
        }
        scheme = PrependScheme::never;
    }
    return scheme;
}

std::unique_ptr<PreTokenizer> parse_pre_tokenizer(const Json& config, const JsonReader& reader,
                                                  const std::string& where) {
    if (config.is_null()) return nullptr;
    const std::string type = reader.component_type(config, where);
    if (type == "Sequence")
        return std::make_unique<SequencePreTokenizer>(reader.sequence<PreTokenizer>(config, "pretokenizers", where, "a pre-tokenizer", parse_pre_tokenizer));
    if (type == "ByteLevel") {
        return std::make_unique<ByteLevelPreTokenizer>(
            reader.boolean_or(config, "add_prefix_space", where, true),
            reader.boolean_or(config, "use_regex", where, true));
    }
    if (type == "Split") {
        return std::make_unique<SplitPreTokenizer>(reader.pattern(config, "pattern", where),
                                                   parse_behavior(config, reader, where),
                                                   reader.boolean_or(config, "invert", where,
                                                                     false));
    }
    if (type == "Metaspace") {
        return std::make_unique<MetaspacePreTokenizer>(
            reader.single_char(config, "replacement", where),
            parse_prepend_scheme(config, reader, where),
            reader.boolean_or(config, "split", where, true));
    }
    if (type == "Digits") {
        const bool individual = reader.boolean_or(config, "individual_digits", where, false);
        return std::make_unique<SplitPreTokenizer>(
            TextPattern::regex("\\p{N}"),
            individual ? SplitBehavior::isolated : SplitBehavior::contiguous, false);
    }
    if (type == "WhitespaceSplit") {
        return std::make_unique<SplitPreTokenizer>(TextPattern::regex("\\s"),
                                                   SplitBehavior::removed, false);
    }
    if (type == "Whitespace") {
        return std::make_unique<SplitPreTokenizer>(TextPattern::regex("\\w+|[^\\w\\s]+"),
                                                   SplitBehavior::removed, true);
    }
    reader.fail(JsonReader::path(where, "type"),
                "unsupported pre-tokenizer \"" + type +
                    "\" (supported: ByteLevel, Split, Metaspace, Digits, Whitespace, "
                    "WhitespaceSplit, Sequence)");
}

}  // namespace headscope::hf_tok
