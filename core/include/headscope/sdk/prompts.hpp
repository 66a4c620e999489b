// Prompt sets: JSONL files with one example per line, as in data/prompts/*.jsonl:
//   {"task": "ioi", "prompt": "...", "answer": " Mary", "alternative": " John",
//    "corrupted_prompt": "..."}   (only "prompt" is required)
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
};

// Throws FormatError naming the file and line for malformed JSON or a missing "prompt".
std::vector<PromptExample> load_prompt_set(const std::string& path);

}  // namespace headscope
