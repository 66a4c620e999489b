// Prompt sets: JSONL files with one example per line, as in data/prompts/*.jsonl:
//   {"task": "ioi", "prompt": "...", "answer": " Mary", "alternative": " John",
//    "corrupted_prompt": "..."}   (only "prompt" is required)
// A line may carry a context segment (for context_sensitivity): a "context" string placed
// before the prompt ({"context": "The capital of Xerath is Sorrel. ", "prompt": "The capital of
// Xerath is"}), or one span of the prompt marked <context>…</context>. Either way `prompt` holds
// the whole text (markers removed) and the context is the span recorded below.
#pragma once

#include <string>
#include <vector>

namespace headscope {

struct PromptExample {
    std::string task;
    std::string prompt;
    std::string answer;            // expected continuation (its first token is scored)
    std::string alternative;       // a wrong answer, for logit differences
    std::string corrupted_prompt;  // same length, answer-changing; for patching
    // The context segment: bytes [context_offset, context_offset + context.size()) of `prompt`;
    // empty when the line has none.
    std::string context{};
    size_t context_offset = 0;
    bool has_context() const { return !context.empty(); }
    // The prompt with the context segment removed (the prompt itself when it has none).
    std::string prompt_without_context() const;
};

// Throws FormatError naming the file and line for malformed JSON or a missing "prompt".
std::vector<PromptExample> load_prompt_set(const std::string& path);

}  // namespace headscope
