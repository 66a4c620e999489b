// Training the built-in tutorial models ("model organisms") in LibTorch: recipes, the training
// loop (AdamW, warmup + cosine learning rate, gradient clipping), and export as a Hugging Face
// directory (config.json, model.safetensors, tokenizer.json, training_log.csv, README.md).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "headscope/model_config.hpp"
#include "headscope/model_weights.hpp"
#include "headscope/task_eval.hpp"

namespace headscope {

struct TrainProgress {
    int64_t step = 0;  // 1-based, after the optimizer step
    int64_t total_steps = 0;
    double loss = 0.0;
    double lr = 0.0;
    double tokens_per_s = 0.0;
    double elapsed_s = 0.0;
    double eta_s = 0.0;
};

struct TrainOptions {
    std::string recipe;   // see recipe_names()
    std::string out_dir;  // written as out_dir + ".tmp", then renamed to out_dir
    int64_t steps = 0;    // 0: the recipe's default
    uint64_t seed = 1;
    // Continue from the weights of a model this recipe trained before (a Hugging Face directory
    // of the same shape and vocabulary) instead of a fresh initialisation. The schedule starts
    // again from step 1.
    std::string init_from;
    // A miniature model and batch of the same recipe (for tests and smoke runs).
    bool tiny = false;
    // Held-out prompts per task scored for the README (0: skip the evaluation).
    int eval_prompts = 200;
    std::function<void(const TrainProgress&)> on_progress;
};

struct TrainResult {
    std::string out_dir;
    ModelConfig config;
    std::vector<double> losses;  // one per step
    double final_loss = 0.0;     // mean of the last min(50, steps) losses
    double seconds = 0.0;
    int64_t tokens = 0;          // tokens trained on (loss positions)
    std::vector<TaskScore> scores;
    std::vector<std::string> notes;  // extra measured lines for the README (e.g. circuits)
};

const std::vector<std::string>& recipe_names();
// Throws UsageError for an unknown recipe or bad options, IoError when writing fails.
TrainResult train_recipe(const TrainOptions& options);

// config.json (model_type llama, LlamaForCausalLM) and model.safetensors (f32) of a Llama-family
// config in Hugging Face layout (the inverse of the HF llama loader). Throws UsageError for a
// config that is not a plain Llama (rotary half style, RMSNorm, gated SiLU MLP, no biases).
void save_hf_llama(const std::string& directory, const ModelConfig& config, const ModelWeights& weights);

}  // namespace headscope
