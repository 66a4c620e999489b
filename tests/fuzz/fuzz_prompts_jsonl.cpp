// Prompt files (JSON lines): the SDK's prompt sets (load_prompt_set, `analyze --prompts`) and
// the tutorial task prompts (read_prompts_jsonl, `eval`/`prompts`) read the same bytes.
#include "fuzz_support.hpp"
#include "headscope/sdk/prompts.hpp"
#include "headscope/tutorial_tasks.hpp"

HEADSCOPE_FUZZ_TARGET {
    using namespace headscope;
    const std::string path = fuzz::write_scratch("prompts.jsonl", data, size);
    fuzz::expect_clean(path, [&] { (void)load_prompt_set(path); });
    fuzz::expect_clean(path, [&] { (void)tutorial::read_prompts_jsonl(path); });
    return 0;
}
