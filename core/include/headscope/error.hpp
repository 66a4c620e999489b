// Typed errors thrown at the boundaries of headscope's core. Every message names what went
// wrong, where (file, tensor, option) and what was expected, so a user can act on it.
#pragma once

#include <stdexcept>
#include <string>

namespace headscope {

// Base of every error headscope throws on purpose.
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A file's bytes do not form a valid checkpoint/tokenizer/store: bad magic, truncated data,
// unknown tensor type, offsets past the end, missing or mis-shaped tensor...
class FormatError : public Error {
public:
    FormatError(std::string file, std::string problem)
        : Error(file + ": " + problem), file_(std::move(file)), problem_(std::move(problem)) {}
    const std::string& file() const noexcept { return file_; }
    const std::string& problem() const noexcept { return problem_; }

private:
    std::string file_;
    std::string problem_;
};

// A model configuration that cannot run (unknown architecture, inconsistent sizes...).
class ConfigError : public Error {
public:
    using Error::Error;
};

// The caller asked for something invalid (unknown hook name, empty batch, bad option...).
class UsageError : public Error {
public:
    using Error::Error;
};

// Reading or writing a file failed at the operating-system level.
class IoError : public Error {
public:
    using Error::Error;
};

}  // namespace headscope
