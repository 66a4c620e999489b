// The tutorial world: word lists, the fictional countries and their capitals, the training
// corpus of the built-in models and the held-out task prompt sets (ioi, laundry_list, capitals,
// capitals_counterfactual, induction, capitals_context). Torch-free.
//
// Held-out rule: which task instances may appear in training is decided by a fixed hash of the
// instance's key (stable_hash), independent of any seed. The corpus generator never emits a
// held-out instance and the prompt generator only emits held-out ones, so prompt sets generated
// with any seed stay unseen by models trained with any seed:
//   ioi                      the unordered name pair {A, B}          held out when hash % 5 == 0
//   laundry_list             the set of listed items                 held out when hash % 6 == 0
//   capitals_counterfactual  (country, in-context capital)           held out when hash % 4 == 0
//   capitals_context         the same, with the in-context statement as a "context" field
//   induction                random word sequences (a repeat of a prompt in training is
//                            astronomically unlikely)
//   capitals                 memorised facts are trained on by design; the prompt set checks
//                            recall of them.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "headscope/seeded_rng.hpp"

namespace headscope::tutorial {

// --- the world ---
struct Country {
    std::string name;     // "Veldra"
    std::string capital;  // "Ostmark"
};
const std::vector<std::string>& names();         // "Mary", "John", ... (single tokens with a leading space)
const std::vector<std::string>& items();         // "eggs", "rice", ... groceries
const std::vector<Country>& countries();         // fictional countries and their memorised capitals
const std::vector<std::string>& other_cities();  // cities that are no country's capital (overrides)
// Every word that may follow a space in the corpus; the tokenizer is trained so each of
// " word" is one token. Also the pool of random words for induction sequences.
std::vector<std::string> lexicon();

// --- held-out keys ---
bool ioi_held_out(const std::string& a, const std::string& b);
bool laundry_held_out(std::vector<std::string> listed);
bool counterfactual_held_out(const std::string& country, const std::string& city);

// --- prompt sets ---
struct TaskPrompt {
    std::string task;
    std::string prompt;            // text without BOS (a BOS token is prepended when evaluated)
    std::string answer;            // the correct continuation, with its leading space: " Mary"
    std::string alternative;       // a wrong continuation for logit differences: " John"
    std::string corrupted_prompt;  // same token length, answer changed to `alternative`
    std::vector<std::pair<std::string, std::string>> fields;  // task-specific extras
};

// The seed and size of the committed prompt sets (data/prompts, `headscope prompts`).
inline constexpr uint64_t kDefaultPromptSeed = 7;
inline constexpr int kDefaultPromptCount = 200;

// The task names make_task_prompts accepts, in a fixed order.
const std::vector<std::string>& task_names();
// `count` held-out prompts of a task (UsageError for an unknown task); capitals gives at most
// two per country.
std::vector<TaskPrompt> make_task_prompts(const std::string& task, uint64_t seed, int count);

std::string to_json_line(const TaskPrompt& p);  // one JSON object, no newline
// Reads a JSONL prompt file; throws FormatError naming the line and key for a bad line.
std::vector<TaskPrompt> read_prompts_jsonl(const std::string& path);
void write_prompts_jsonl(const std::string& path, const std::vector<TaskPrompt>& prompts);

// --- training corpus ---
struct CorpusMix {
    double ioi = 0.28;
    double laundry = 0.26;
    double capitals = 0.20;  // facts, restatements and in-context overrides
    double repeats = 0.10;   // repeated random word sequences
    double plain = 0.16;     // plain generated sentences
};

// Documents of the tiny-world corpus (text without BOS; the trainer adds it), drawn from a
// seeded generator: the same seed gives the same documents.
class TinyWorldCorpus {
public:
    explicit TinyWorldCorpus(uint64_t seed, CorpusMix mix = {});
    std::string next_document();
    // The kind of the last document: "ioi", "laundry_list", "capitals", "repeats", "plain".
    const std::string& last_kind() const { return last_kind_; }

private:
    SeededRng rng_;
    CorpusMix mix_;
    std::string last_kind_;
};

// Single-document generators (shared by the corpus and the prompt sets).
namespace gen {
struct IoiInstance {
    std::string prompt, answer, alternative, corrupted;
    std::string template_id;
};
// A, B: the two names; subject_is_b: whether the repeated subject is B (answer A).
IoiInstance ioi(SeededRng& rng, const std::string& a, const std::string& b, bool subject_is_b, int template_index);
int ioi_template_count();

struct LaundryInstance {
    std::string prompt, answer, alternative, corrupted;
};
LaundryInstance laundry(SeededRng& rng, const std::vector<std::string>& listed, size_t missing_index);

std::string plain_sentence(SeededRng& rng);
}  // namespace gen

}  // namespace headscope::tutorial
