// Scoring a model on task prompts: top-1 accuracy of the answer's first token after the prompt,
// and the logit difference answer - alternative (first tokens), per task.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "headscope/hooked_transformer.hpp"
#include "headscope/tokenizer.hpp"
#include "headscope/tutorial_tasks.hpp"

namespace headscope {

struct PromptScore {
    int32_t answer_id = -1;
    int32_t alternative_id = -1;  // -1 when the prompt has no alternative
    int32_t predicted_id = -1;    // argmax of the last position's logits
    bool correct = false;
    double logit_diff = 0.0;      // logit(answer) - logit(alternative); 0 without an alternative
    double loss = 0.0;            // -log p(answer) at the last position
};

struct TaskScore {
    std::string task;
    int64_t count = 0;
    double accuracy = 0.0;          // fraction with predicted == answer
    double mean_logit_diff = 0.0;   // over prompts that have an alternative
    int64_t with_alternative = 0;
    double mean_loss = 0.0;         // mean -log p(answer) over the task's prompts
};

// Each prompt is encoded with BOS (when the tokenizer has one); prompts of equal token length
// run as one batch. Throws UsageError when an answer encodes to no token.
std::vector<PromptScore> score_prompts(HookedTransformer& model, const Tokenizer& tokenizer,
                                       const std::vector<tutorial::TaskPrompt>& prompts);
// Per task, in the order tasks first appear.
std::vector<TaskScore> summarize_scores(const std::vector<tutorial::TaskPrompt>& prompts,
                                        const std::vector<PromptScore>& scores);
std::vector<TaskScore> evaluate_tasks(HookedTransformer& model, const Tokenizer& tokenizer,
                                      const std::vector<tutorial::TaskPrompt>& prompts);

}  // namespace headscope
