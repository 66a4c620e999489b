#include "tokenizers/hf/pattern.hpp"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <stdexcept>

#include "headscope/error.hpp"
#include "tokenizers/hf/utf8.hpp"

namespace headscope::hf_tok {

struct Regex::Compiled {
    pcre2_code* code = nullptr;
    ~Compiled() { pcre2_code_free(code); }
};

namespace {

std::string pcre2_message(int error_code) {
    PCRE2_UCHAR buffer[256];
    if (pcre2_get_error_message(error_code, buffer, sizeof buffer) < 0) {
        return "PCRE2 error " + std::to_string(error_code);
    }
    return reinterpret_cast<const char*>(buffer);
}

struct MatchData {
    pcre2_match_data* data;
    explicit MatchData(const pcre2_code* code)
        : data(pcre2_match_data_create_from_pattern(code, nullptr)) {
        if (data == nullptr) throw std::bad_alloc();
    }
    ~MatchData() { pcre2_match_data_free(data); }
    MatchData(const MatchData&) = delete;
    MatchData& operator=(const MatchData&) = delete;
};

}  // namespace

Regex::Regex(const std::string& pattern) : pattern_(pattern) {
    int error_code = 0;
    PCRE2_SIZE error_offset = 0;
    // UCP: \s \w \d and [[:classes:]] follow Unicode properties, as in Oniguruma.
    // MATCH_INVALID_UTF: invalid UTF-8 in a subject never matches instead of failing the call.
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                     PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &error_code,
                                     &error_offset, nullptr);
    if (code == nullptr) {
        throw std::invalid_argument("invalid regular expression /" + pattern + "/ at offset " +
                                    std::to_string(error_offset) + ": " +
                                    pcre2_message(error_code));
    }
    auto compiled = std::make_shared<Compiled>();
    compiled->code = code;
    // JIT is an optimisation only: without it (unsupported platform) the interpreter runs.
    (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
    compiled_ = std::move(compiled);
}

std::vector<PatternPiece> Regex::find_matches(std::string_view subject) const {
    std::vector<PatternPiece> pieces;
    if (subject.empty()) {
        pieces.push_back({{0, 0}, false});
        return pieces;
    }
    MatchData match(compiled_->code);
    const auto* text = reinterpret_cast<PCRE2_SPTR>(subject.data());
    const size_t n = subject.size();
    size_t prev = 0;
    size_t pos = 0;
    while (pos <= n) {
        int rc = pcre2_match(compiled_->code, text, n, pos, 0, match.data, nullptr);
        if (rc == PCRE2_ERROR_JIT_STACKLIMIT) {
            // The interpreter keeps its backtracking state on the heap: retry there.
            rc = pcre2_match(compiled_->code, text, n, pos, PCRE2_NO_JIT, match.data, nullptr);
        }
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0) {
            throw RegexMatchError("regular expression /" + pattern_ + "/ failed on the input at byte " +
                        std::to_string(pos) + ": " + pcre2_message(rc));
        }
        const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(match.data);
        size_t start = ovector[0];
        size_t end = ovector[1];
        if (start < prev || end < start || end > n) {  // \K tricks: keep the runs contiguous
            start = std::max(start, prev);
            end = std::max(std::min(end, n), start);
        }
        if (start != prev) pieces.push_back({{prev, start}, false});
        pieces.push_back({{start, end}, true});
        prev = end;
        if (end == start) {
            if (start >= n) break;
            pos = start + next_utf8_char(subject, start).length;  // step over one character
        } else {
            pos = end;
        }
    }
    if (prev != n) pieces.push_back({{prev, n}, false});
    return pieces;
}

size_t Regex::anchored_match_length(std::string_view subject) const {
    MatchData match(compiled_->code);
    const auto* text = reinterpret_cast<PCRE2_SPTR>(subject.data());
    int rc = pcre2_match(compiled_->code, text, subject.size(), 0, PCRE2_ANCHORED, match.data,
                         nullptr);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT) {
        rc = pcre2_match(compiled_->code, text, subject.size(), 0, PCRE2_ANCHORED | PCRE2_NO_JIT,
                         match.data, nullptr);
    }
    if (rc == PCRE2_ERROR_NOMATCH) return std::string_view::npos;
    if (rc < 0) {
        throw RegexMatchError("regular expression /" + pattern_ + "/ failed: " + pcre2_message(rc));
    }
    return pcre2_get_ovector_pointer(match.data)[1];
}

TextPattern TextPattern::literal(std::string text) {
    TextPattern p;
    p.literal_ = std::move(text);
    return p;
}

TextPattern TextPattern::regex(const std::string& pattern) {
    TextPattern p;
    p.regex_ = std::make_shared<const Regex>(pattern);
    return p;
}

std::vector<PatternPiece> TextPattern::find_matches(std::string_view subject) const {
    if (regex_) return regex_->find_matches(subject);
    std::vector<PatternPiece> pieces;
    if (subject.empty() || literal_.empty()) {
        pieces.push_back({{0, subject.size()}, false});
        return pieces;
    }
    size_t prev = 0;
    for (size_t hit = subject.find(literal_); hit != std::string_view::npos;
         hit = subject.find(literal_, prev)) {
        if (hit != prev) pieces.push_back({{prev, hit}, false});
        pieces.push_back({{hit, hit + literal_.size()}, true});
        prev = hit + literal_.size();
    }
    if (prev != subject.size()) pieces.push_back({{prev, subject.size()}, false});
    return pieces;
}

std::vector<PatternPiece> TextPattern::find_matches(std::string_view subject, bool invert) const {
    std::vector<PatternPiece> pieces = find_matches(subject);
    if (invert) {
        for (auto& piece : pieces) piece.is_match = !piece.is_match;
    }
    return pieces;
}

}  // namespace headscope::hf_tok
