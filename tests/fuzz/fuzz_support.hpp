// Shared by every libFuzzer harness in tests/fuzz: a per-process scratch folder the fuzz input
// is written into (the readers take paths, as the CLI gives them), and the one rule every
// harness checks — a reader either succeeds or throws a headscope::Error whose message names
// the file; anything else (another exception type, a crash, a sanitizer report, a huge
// allocation, a hang) is a finding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

// Each harness defines its entry point with this; libFuzzer (fuzz build) or the replay driver
// (ordinary build, replay_main.cpp) calls it once per input.
#define HEADSCOPE_FUZZ_TARGET extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)

namespace headscope::fuzz {

// A folder private to this process (created on first use, removed at exit).
const std::string& scratch_dir();
// Writes bytes to scratch_dir()/name and returns the path.
std::string write_scratch(const std::string& name, std::string_view bytes);
inline std::string write_scratch(const std::string& name, const uint8_t* data, size_t size) {
    return write_scratch(name, std::string_view(reinterpret_cast<const char*>(data), size));
}

// Runs `read`. A headscope::Error whose message names `file` is an accepted refusal; an Error
// that does not name it, or any other exception, aborts with a description (the finding).
void expect_clean(const std::string& file, const std::function<void()>& read);

// Splits the input in two at the first occurrence of `separator` (the whole input and "" when
// absent), so one input can carry two files (e.g. a tokenizer and a text to encode).
std::pair<std::string_view, std::string_view> split_input(const uint8_t* data, size_t size,
                                                         std::string_view separator);

}  // namespace headscope::fuzz
