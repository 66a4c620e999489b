// Typed, error-reporting access to tokenizer.json values: every failure becomes a FormatError
// naming the file, the JSON path (e.g. "pre_tokenizer.pretokenizers[1].behavior") and what
// was expected.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tokenizers/hf/pattern.hpp"

namespace headscope::hf_tok {

using Json = nlohmann::json;

class JsonReader {
public:
    explicit JsonReader(std::string file) : file_(std::move(file)) {}
    const std::string& file() const { return file_; }

    [[noreturn]] void fail(const std::string& where, const std::string& problem) const;

    // The member `key` of object `obj`, or nullptr when it is absent or null.
    static const Json* member(const Json& obj, const char* key);

    const Json& object(const Json& obj, const char* key, const std::string& where) const;
    const Json& array(const Json& obj, const char* key, const std::string& where) const;
    std::string string(const Json& obj, const char* key, const std::string& where) const;
    std::string string_or(const Json& obj, const char* key, const std::string& where,
                          const std::string& fallback) const;
    bool boolean_or(const Json& obj, const char* key, const std::string& where,
                    bool fallback) const;
    int64_t integer(const Json& obj, const char* key, const std::string& where) const;
    int64_t integer_or(const Json& obj, const char* key, const std::string& where,
                       int64_t fallback) const;
    // A string holding exactly one Unicode character (Metaspace/Strip "replacement"/"content").
    std::string single_char(const Json& obj, const char* key, const std::string& where) const;

    // HF's SplitPattern at obj[key]: {"String": "..."} or {"Regex": "..."}.
    TextPattern pattern(const Json& obj, const char* key, const std::string& where) const;

    // The "type" of a normalizer / pre-tokenizer / decoder object (an error when not an object).
    // Counts the components: a file with more than kMaxComponents in all (Sequences included)
    // is refused, so no chain can multiply the work per character without bound.
    std::string component_type(const Json& config, const std::string& where) const;
    static constexpr size_t kMaxComponents = 32;

    // The components listed under `key` of a "Sequence" component, each parsed by
    // parse(json, reader, path); a null element is an error naming `what` and its path.
    template <class T, class Parse>
    std::vector<std::unique_ptr<T>> sequence(const Json& config, const char* key, const std::string& where,
                                             const char* what, Parse parse) const {
        const Json& list = array(config, key, where);
        std::vector<std::unique_ptr<T>> steps;
        for (size_t i = 0; i < list.size(); ++i) {
            const std::string at = path(path(where, key), i);
            if (list[i].is_null()) fail(at, std::string("expected ") + what + ", found null");
            steps.push_back(parse(list[i], *this, at));
        }
        return steps;
    }

    static std::string path(const std::string& where, const char* key);
    static std::string path(const std::string& where, size_t index);
    static std::string type_name(const Json& value);

private:
    std::string file_;
    mutable size_t components_ = 0;
};

}  // namespace headscope::hf_tok
