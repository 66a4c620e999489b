#include "formats/safetensors/st_header.hpp"

#include <algorithm>
#include <limits>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "headscope/error.hpp"
#include "headscope/formatting.hpp"

namespace headscope::st {

namespace {

using nlohmann::json;

const char* json_type(const json& j) {
    // nlohmann reports "number" for every numeric type; say which one, it explains rejections.
    if (j.is_number_float()) return "floating-point number";
    if (j.is_number_integer() && !j.is_number_unsigned()) return "negative integer";
    return j.type_name();
}

bool as_u64(const json& j, uint64_t& out) {
    if (!j.is_number_unsigned()) return false;
    out = j.get<uint64_t>();
    return true;
}

// a * b, or false on uint64 overflow.
bool mul_u64(uint64_t a, uint64_t b, uint64_t& out) {
    if (a != 0 && b > std::numeric_limits<uint64_t>::max() / a) return false;
    out = a * b;
    return true;
}

class EntryParser {
public:
    EntryParser(const std::string& file, uint64_t data_size) : file_(file), data_size_(data_size) {}

    HeaderEntry parse(const std::string& name, const json& value) const {
        if (!value.is_object())
            fail(name, fmt::format("entry is a JSON {}, expected an object with dtype, shape "
                                   "and data_offsets", json_type(value)));
        HeaderEntry e;
        e.name = name;
        e.dtype = parse_dtype(name, member(name, value, "dtype"));
        e.shape = parse_shape(name, member(name, value, "shape"));
        parse_offsets(name, member(name, value, "data_offsets"), e.begin, e.end);
        check_size(e);
        return e;
    }

private:
    [[noreturn]] void fail(const std::string& name, const std::string& problem) const {
        throw FormatError(file_, fmt::format("tensor '{}': {}", name, problem));
    }

    const json& member(const std::string& name, const json& obj, const char* key) const {
        auto it = obj.find(key);
        if (it == obj.end()) fail(name, fmt::format("header entry has no \"{}\"", key));
        return *it;
    }

    const DtypeInfo* parse_dtype(const std::string& name, const json& j) const {
        if (!j.is_string())
            fail(name, fmt::format("\"dtype\" is a JSON {}, expected a string such as \"F32\"",
                                   json_type(j)));
        const auto& s = j.get_ref<const std::string&>();
        const DtypeInfo* d = find_dtype(s);
        if (!d)
            fail(name, fmt::format("unknown dtype \"{}\" (safetensors dtypes: {}; headscope reads {})",
                                   s, known_dtypes(), supported_dtypes()));
        return d;
    }

    std::vector<int64_t> parse_shape(const std::string& name, const json& j) const {
        if (!j.is_array())
            fail(name, fmt::format("\"shape\" is a JSON {}, expected an array of non-negative "
                                   "integers", json_type(j)));
        std::vector<int64_t> shape;
        shape.reserve(j.size());
        for (size_t i = 0; i < j.size(); ++i) {
            uint64_t d = 0;
            if (!as_u64(j[i], d))
                fail(name, fmt::format("shape[{}] is a {} ({}), expected a non-negative integer", i,
                                       json_type(j[i]), j[i].dump()));
            if (d > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
                fail(name, fmt::format("shape[{}] = {} is too large", i, d));
            shape.push_back(static_cast<int64_t>(d));
        }
        return shape;
    }

    void parse_offsets(const std::string& name, const json& j, uint64_t& begin, uint64_t& end) const {
        if (!j.is_array() || j.size() != 2)
            fail(name, fmt::format("\"data_offsets\" is {}, expected [begin, end]", j.dump()));
        if (!as_u64(j[0], begin) || !as_u64(j[1], end))
            fail(name, fmt::format("\"data_offsets\" {} must hold two non-negative integers", j.dump()));
        if (begin > end)
            fail(name, fmt::format("data_offsets [{}, {}] begin after end", begin, end));
        if (end > data_size_)
            fail(name, fmt::format("data_offsets [{}, {}] run past the end of the data buffer, which "
                                   "holds {} bytes (file truncated or offsets corrupt)",
                                   begin, end, data_size_));
    }

    void check_size(const HeaderEntry& e) const {
        uint64_t numel = 1;
        for (int64_t d : e.shape)
            if (!mul_u64(numel, static_cast<uint64_t>(d), numel))
                fail(e.name, fmt::format("shape {} overflows 64 bits", shape_string(e.shape)));
        uint64_t bits = 0;
        if (!mul_u64(numel, e.dtype->bits, bits) ||
            numel > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
            fail(e.name, fmt::format("shape {} of {} overflows 64 bits", shape_string(e.shape),
                                     e.dtype->name));
        if (bits % 8 != 0)
            fail(e.name, fmt::format("shape {} of {} ({}-bit) does not fill whole bytes",
                                     shape_string(e.shape), e.dtype->name, e.dtype->bits));
        const uint64_t expected = bits / 8;
        if (e.end - e.begin != expected)
            fail(e.name, fmt::format("data_offsets [{}, {}] span {} bytes, but shape {} of {} needs "
                                     "{} bytes",
                                     e.begin, e.end, e.end - e.begin, shape_string(e.shape),
                                     e.dtype->name, expected));
    }

    const std::string& file_;
    uint64_t data_size_;
};

void parse_metadata(const std::string& file, const json& j, Header& out) {
    if (!j.is_object())
        throw FormatError(file, fmt::format("\"__metadata__\" is a JSON {}, expected an object of "
                                            "strings", json_type(j)));
    for (auto it = j.begin(); it != j.end(); ++it) {
        if (!it.value().is_string())
            throw FormatError(file, fmt::format("\"__metadata__\" value of \"{}\" is a JSON {}, "
                                                "expected a string", it.key(),
                                                json_type(it.value())));
        out.metadata.emplace_back(it.key(), it.value().get<std::string>());
    }
}

// No two non-empty byte ranges may share a byte. Entries are sorted by begin.
void check_overlaps(const std::string& file, const std::vector<HeaderEntry>& entries) {
    const HeaderEntry* reach = nullptr;  // the non-empty entry that ends furthest so far
    for (const auto& e : entries) {
        if (e.begin == e.end) continue;
        if (reach && e.begin < reach->end)
            throw FormatError(file, fmt::format("tensors '{}' [{}, {}) and '{}' [{}, {}) overlap in "
                                                "the data buffer",
                                                reach->name, reach->begin, reach->end, e.name,
                                                e.begin, e.end));
        if (!reach || e.end > reach->end) reach = &e;
    }
}

}  // namespace

Header parse_header(const std::string& file, std::string_view text, uint64_t data_size) {
    json root;
    try {
        root = json::parse(text.begin(), text.end());
    } catch (const json::exception& e) {
        throw FormatError(file, fmt::format("header is not valid JSON: {}", e.what()));
    }
    if (!root.is_object())
        throw FormatError(file, fmt::format("header is a JSON {}, expected an object mapping tensor "
                                            "names to entries", json_type(root)));
    Header out;
    EntryParser parser(file, data_size);
    out.entries.reserve(root.size());
    for (auto it = root.begin(); it != root.end(); ++it) {
        if (it.key() == "__metadata__")
            parse_metadata(file, it.value(), out);
        else
            out.entries.push_back(parser.parse(it.key(), it.value()));
    }
    std::sort(out.entries.begin(), out.entries.end(), [](const HeaderEntry& a, const HeaderEntry& b) {
        if (a.begin != b.begin) return a.begin < b.begin;
        if (a.end != b.end) return a.end < b.end;
        return a.name < b.name;
    });
    check_overlaps(file, out.entries);
    return out;
}

}  // namespace headscope::st
