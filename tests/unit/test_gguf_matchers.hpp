// Catch2 matchers for the readers' errors: the exception's type, the file it names and the
// phrases its message must contain, checked together.
#pragma once

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "headscope/error.hpp"

namespace headscope::test::format_matchers {

class FormatErrorMatcher : public Catch::MatcherBase<FormatError> {
public:
    FormatErrorMatcher(std::string file, std::vector<std::string> phrases)
        : file_(std::move(file)), phrases_(std::move(phrases)) {}
    bool match(const FormatError& e) const override {
        const std::string what = e.what();
        if (e.file() != file_ || what.find(file_) == std::string::npos) return false;
        for (const auto& p : phrases_)
            if (what.find(p) == std::string::npos) return false;
        return true;
    }
    std::string describe() const override {
        std::string d = "names file \"" + file_ + "\"";
        for (const auto& p : phrases_) d += " and contains \"" + p + "\"";
        return d;
    }

private:
    std::string file_;
    std::vector<std::string> phrases_;
};

// FormatError about `file` whose message contains every phrase.
inline FormatErrorMatcher format_error(const std::string& file, std::vector<std::string> phrases) {
    return FormatErrorMatcher(file, std::move(phrases));
}

}  // namespace headscope::test::format_matchers
