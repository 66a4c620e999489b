#include "tokenizers/hf/json_reader.hpp"

#include <stdexcept>

#include "headscope/error.hpp"
#include "tokenizers/hf/utf8.hpp"

namespace headscope::hf_tok {

void JsonReader::fail(const std::string& where, const std::string& problem) const {
    throw FormatError(file_, where.empty() ? problem : where + ": " + problem);
}

const Json* JsonReader::member(const Json& obj, const char* key) {
    if (!obj.is_object()) return nullptr;
    const auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return nullptr;
    return &*it;
}

std::string JsonReader::path(const std::string& where, const char* key) {
    return where.empty() ? std::string(key) : where + "." + key;
}

std::string JsonReader::path(const std::string& where, size_t index) {
    return where + "[" + std::to_string(index) + "]";
}

std::string JsonReader::type_name(const Json& value) { return value.type_name(); }

const Json& JsonReader::object(const Json& obj, const char* key, const std::string& where) const {
    const Json* v = member(obj, key);
    if (v == nullptr) fail(path(where, key), "missing (expected an object)");
    if (!v->is_object()) fail(path(where, key), "expected an object, found " + type_name(*v));
    return *v;
}

const Json& JsonReader::array(const Json& obj, const char* key, const std::string& where) const {
    const Json* v = member(obj, key);
    if (v == nullptr) fail(path(where, key), "missing (expected an array)");
    if (!v->is_array()) fail(path(where, key), "expected an array, found " + type_name(*v));
    return *v;
}

std::string JsonReader::string(const Json& obj, const char* key, const std::string& where) const {
    const Json* v = member(obj, key);
    if (v == nullptr) fail(path(where, key), "missing (expected a string)");
    if (!v->is_string()) fail(path(where, key), "expected a string, found " + type_name(*v));
    return v->get<std::string>();
}

std::string JsonReader::string_or(const Json& obj, const char* key, const std::string& where,
                                  const std::string& fallback) const {
    if (member(obj, key) == nullptr) return fallback;
    return string(obj, key, where);
}

bool JsonReader::boolean_or(const Json& obj, const char* key, const std::string& where,
                            bool fallback) const {
    const Json* v = member(obj, key);
    if (v == nullptr) return fallback;
    if (!v->is_boolean()) fail(path(where, key), "expected true or false, found " + type_name(*v));
    return v->get<bool>();
}

int64_t JsonReader::integer(const Json& obj, const char* key, const std::string& where) const {
    const Json* v = member(obj, key);
    if (v == nullptr) fail(path(where, key), "missing (expected an integer)");
    if (!v->is_number_integer()) {
        fail(path(where, key), "expected an integer, found " + type_name(*v));
    }
    if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
        fail(path(where, key), "integer out of range");
    }
    return v->get<int64_t>();
}

int64_t JsonReader::integer_or(const Json& obj, const char* key, const std::string& where,
                               int64_t fallback) const {
    if (member(obj, key) == nullptr) return fallback;
    return integer(obj, key, where);
}

std::string JsonReader::single_char(const Json& obj, const char* key,
                                    const std::string& where) const {
    std::string s = string(obj, key, where);
    if (s.empty() || next_utf8_char(s, 0).code_point == kInvalidCodePoint ||
        next_utf8_char(s, 0).length != s.size()) {
        fail(path(where, key), "expected exactly one character, found \"" + s + "\"");
    }
    return s;
}

TextPattern JsonReader::pattern(const Json& obj, const char* key, const std::string& where) const {
    const Json& p = object(obj, key, where);
    const std::string at = path(where, key);
    if (const Json* s = member(p, "String")) {
        if (!s->is_string()) fail(path(at, "String"), "expected a string, found " + type_name(*s));
        return TextPattern::literal(s->get<std::string>());
    }
    if (const Json* r = member(p, "Regex")) {
        if (!r->is_string()) fail(path(at, "Regex"), "expected a string, found " + type_name(*r));
        try {
            return TextPattern::regex(r->get<std::string>());
        } catch (const std::invalid_argument& e) {
            fail(path(at, "Regex"), e.what());
        }
    }
    fail(at, "expected {\"String\": ...} or {\"Regex\": ...}");
}

std::string JsonReader::component_type(const Json& config, const std::string& where) const {
    if (!config.is_object()) fail(where, "expected an object or null, found " + type_name(config));
    if (++components_ > kMaxComponents) {
        fail(where, "more than " + std::to_string(kMaxComponents) +
                        " normalizers, pre-tokenizers and decoders in one tokenizer (the limit; real "
                        "tokenizers chain a handful)");
    }
    return string(config, "type", where);
}

}  // namespace headscope::hf_tok
