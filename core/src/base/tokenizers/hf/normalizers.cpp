#include "tokenizers/hf/normalizers.hpp"

#include <algorithm>
#include <vector>

#include "tokenizers/hf/unicode_classes.hpp"

namespace headscope::hf_tok {
namespace {

class SequenceNormalizer final : public Normalizer {
public:
    explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> steps)
        : steps_(std::move(steps)) {}
    void normalize(NormalizedText& text) const override {
        for (const auto& step : steps_) step->normalize(text);
    }

private:
    std::vector<std::unique_ptr<Normalizer>> steps_;
};

class PrependNormalizer final : public Normalizer {
public:
    explicit PrependNormalizer(std::string prefix) : prefix_(std::move(prefix)) {}
    void normalize(NormalizedText& text) const override {
        if (!text.empty()) text.prepend(prefix_);  // HF leaves empty text alone
    }

private:
    std::string prefix_;
};

class ReplaceNormalizer final : public Normalizer {
public:
    ReplaceNormalizer(TextPattern pattern, std::string content)
        : pattern_(std::move(pattern)), content_(std::move(content)) {}
    void normalize(NormalizedText& text) const override {
        text.replace(pattern_.find_matches(text.text()), content_);
    }

private:
    TextPattern pattern_;
    std::string content_;
};

class StripNormalizer final : public Normalizer {
public:
    StripNormalizer(bool left, bool right) : left_(left), right_(right) {}
    void normalize(NormalizedText& text) const override {
        const std::string& s = text.text();
        const size_t begin = left_ ? leading_whitespace_length(s) : 0;
        const size_t end = right_ ? trailing_whitespace_begin(s) : s.size();
        if (begin == 0 && end == s.size()) return;
        text = text.slice(begin, std::max(begin, end));
    }

private:
    bool left_;
    bool right_;
};

class PassThroughNormalizer final : public Normalizer {
public:
    void normalize(NormalizedText&) const override {}
};

}  // namespace

std::unique_ptr<Normalizer> parse_normalizer(const Json& config, const JsonReader& reader,
                                             const std::string& where) {
    if (config.is_null()) return nullptr;
    const std::string type = reader.component_type(config, where);
    if (type == "Sequence")
        return std::make_unique<SequenceNormalizer>(reader.sequence<Normalizer>(config, "normalizers", where, "a normalizer", parse_normalizer));
    if (type == "Prepend") {
        return std::make_unique<PrependNormalizer>(reader.string(config, "prepend", where));
    }
    if (type == "Replace") {
        return std::make_unique<ReplaceNormalizer>(reader.pattern(config, "pattern", where),
                                                   reader.string(config, "content", where));
    }
    if (type == "Strip") {
        return std::make_unique<StripNormalizer>(
            reader.boolean_or(config, "strip_left", where, true),
            reader.boolean_or(config, "strip_right", where, true));
    }
    if (type == "NFC") return std::make_unique<PassThroughNormalizer>();
    reader.fail(JsonReader::path(where, "type"),
                "unsupported normalizer \"" + type +
                    "\" (supported: Sequence, Prepend, Replace, Strip, NFC)");
}

}  // namespace headscope::hf_tok
