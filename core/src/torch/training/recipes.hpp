// The training recipes of the built-in models: model shape, optimizer settings and the data
// each trains on (internal to the trainer).
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "headscope/bpe_trainer.hpp"
#include "headscope/model_config.hpp"
#include "headscope/tokenizer.hpp"

namespace headscope::training {

struct Recipe {
    std::string name;
    std::string description;
    ModelConfig config;  // d_vocab / bos / eos filled in from the tokenizer
    int64_t steps = 0;
    int64_t batch_size = 0;
    int64_t seq_len = 0;  // fixed-length rows (induction) or the cap on document length
    double lr = 1e-3;
    double min_lr_ratio = 0.1;  // cosine decays to lr * min_lr_ratio
    int64_t warmup_steps = 100;
    double weight_decay = 0.01;
    double clip_norm = 1.0;
    bool frozen_zero_mlp = false;  // attention-only behaviour in a Llama layout
    // Initialise every token embedding with a shared component of this norm (relative to a
    // row's random part): gives queries and keys a token-independent part from the start, so
    // rotary positional heads (previous-token heads) form quickly. 0 = off.
    double shared_embedding = 0.0;
    std::vector<std::string> eval_tasks;
};

Recipe make_recipe(const std::string& name, bool tiny);

// The tokenizer every tutorial model uses: byte-level BPE trained on a sample of the
// tiny-world corpus plus every lexicon word, so each " word" is a single token.
TrainedBpe train_tutorial_tokenizer(uint64_t seed);

// Token ids of the lexicon words with their leading space (the random-token pool).
std::vector<int32_t> lexicon_token_ids(const Tokenizer& tokenizer);

struct Batch {
    torch::Tensor tokens;   // [B, T] int64
    torch::Tensor targets;  // [B, T] int64, -100 where no loss is taken
    int64_t loss_tokens = 0;
};

class BatchSource {
public:
    virtual ~BatchSource() = default;
    virtual Batch next() = 0;
};

std::unique_ptr<BatchSource> make_batch_source(const Recipe& recipe, const Tokenizer& tokenizer, uint64_t seed);

}  // namespace headscope::training
