#include "headscope/sdk/head_ref.hpp"

#include <cctype>
#include <charconv>

#include <fmt/format.h>

#include "headscope/error.hpp"

namespace headscope {

std::string head_label(int layer, int head) { return fmt::format("L{}H{}", layer, head); }
std::string to_string(const HeadRef& h) { return head_label(h.layer, h.head); }

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

// A non-negative decimal that fits an int; the whole of s.
bool parse_index(std::string_view s, int& out) {
    if (s.empty() || s.size() > 9) return false;
    for (char c : s)
        if (c < '0' || c > '9') return false;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

HeadRef parse_head(std::string_view text) {
    const std::string_view s = trim(text);
    HeadRef h;
    bool ok = false;
    if (!s.empty() && (s.front() == 'L' || s.front() == 'l')) {
        const size_t hpos = s.find_first_of("Hh", 1);
        ok = hpos != std::string_view::npos && parse_index(s.substr(1, hpos - 1), h.layer) &&
             parse_index(s.substr(hpos + 1), h.head);
    } else {
        const size_t sep = s.find_first_of(".:");
        ok = sep != std::string_view::npos && parse_index(s.substr(0, sep), h.layer) &&
             parse_index(s.substr(sep + 1), h.head);
    }
    if (!ok)
        throw UsageError(fmt::format("'{}' is not a head: write L<layer>H<head>, <layer>.<head> or <layer>:<head>, "
                                     "e.g. L1H4, 1.4 or 1:4",
                                     std::string(s)));
    return h;
}

std::vector<HeadRef> parse_heads(std::string_view text) {
    std::vector<HeadRef> out;
    if (trim(text).empty()) return out;
    size_t start = 0;
    while (true) {
        const size_t comma = text.find(',', start);
        const std::string_view item = text.substr(start, comma == std::string_view::npos ? std::string_view::npos
                                                                                         : comma - start);
        try {
            out.push_back(parse_head(item));
        } catch (const UsageError& e) {
            throw UsageError(fmt::format("in '{}': {}", std::string(text), e.what()));
        }
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
    return out;
}

}  // namespace headscope
