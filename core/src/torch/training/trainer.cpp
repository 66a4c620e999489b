// train_recipe: initialise, train with AdamW (warmup + cosine, clipping), export as a Hugging
// Face directory, reload and score it on held-out prompts.
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <torch/torch.h>

#include "headscope/error.hpp"
#include "headscope/model_loader.hpp"
#include "headscope/training.hpp"
#include "headscope/tutorial_tasks.hpp"
#include "training/induction_circuit.hpp"
#include "training/readme_writer.hpp"
#include "training/recipes.hpp"

namespace headscope {

namespace {

namespace fs = std::filesystem;
using training::Recipe;

ModelWeights init_weights(const ModelConfig& c, bool zero_mlp, double shared_embedding) {
    const double std = 0.02, out_std = 0.02 / std::sqrt(2.0 * c.n_layers);
    auto normal = [](std::vector<int64_t> shape, double s) { return torch::randn(shape) * s; };
    const int64_t d = c.d_model, H = c.n_heads, K = c.n_kv_heads, dh = c.d_head, m = c.d_mlp, V = c.d_vocab;
    ModelWeights w;
    w.W_E = normal({V, d}, std);
    if (shared_embedding > 0) {
        // A common direction with the same expected norm as a row's random part, times the factor.
        torch::Tensor shared = torch::randn({1, d});
        w.W_E = w.W_E + shared / shared.norm() * (std * std::sqrt(static_cast<double>(d)) * shared_embedding);
    }
    for (int l = 0; l < c.n_layers; ++l) {
        LayerWeights L;
        L.ln1_w = torch::ones({d});
        L.W_Q = normal({H, d, dh}, std);
        L.W_K = normal({K, d, dh}, std);
        L.W_V = normal({K, d, dh}, std);
        L.W_O = normal({H, dh, d}, out_std);
        L.ln2_w = torch::ones({d});
        if (zero_mlp) {
            L.W_gate = torch::zeros({d, m});
            L.W_in = torch::zeros({d, m});
            L.W_out = torch::zeros({m, d});
        } else {
            L.W_gate = normal({d, m}, std);
            L.W_in = normal({d, m}, std);
            L.W_out = normal({m, d}, out_std);
        }
        w.layers.push_back(std::move(L));
    }
    w.ln_final_w = torch::ones({d});
    w.W_U = normal({d, V}, std);
    return w;
}

double lr_at(const Recipe& r, int64_t step, int64_t total) {  // step is 0-based
    if (step < r.warmup_steps) return r.lr * static_cast<double>(step + 1) / static_cast<double>(r.warmup_steps);
    const double span = std::max<int64_t>(1, total - r.warmup_steps);
    const double progress = std::min(1.0, static_cast<double>(step - r.warmup_steps) / span);
    const double floor = r.lr * r.min_lr_ratio;
    return floor + 0.5 * (r.lr - floor) * (1.0 + std::cos(M_PI * progress));
}

void replace_directory(const fs::path& tmp, const fs::path& dest) {
    std::error_code ec;
    const fs::path old = dest.string() + ".old";
    fs::remove_all(old, ec);
    if (fs::exists(dest, ec)) {
        fs::rename(dest, old, ec);
        if (ec) throw IoError(fmt::format("{}: cannot move the previous model aside: {}", dest.string(), ec.message()));
    }
    fs::rename(tmp, dest, ec);
    if (ec) throw IoError(fmt::format("{}: cannot rename {} into place: {}", dest.string(), tmp.string(), ec.message()));
    fs::remove_all(old, ec);
}

}  // namespace

const std::vector<std::string>& recipe_names() {
    static const std::vector<std::string> v{"induction-2l", "tiny-world"};
    return v;
}

TrainResult train_recipe(const TrainOptions& o) {
    Recipe recipe = training::make_recipe(o.recipe, o.tiny);
    if (o.steps < 0) throw UsageError("--steps must be positive");
    if (o.steps > 0) recipe.steps = o.steps;
    recipe.warmup_steps = std::min(recipe.warmup_steps, std::max<int64_t>(1, recipe.steps / 10));
    if (o.out_dir.empty()) throw UsageError("an output directory is required");
    const fs::path dest = fs::path(o.out_dir).lexically_normal();
    const fs::path tmp = dest.string() + ".tmp";
    std::error_code ec;
    fs::remove_all(tmp, ec);
    fs::create_directories(tmp, ec);
    if (ec) throw IoError(fmt::format("{}: cannot create directory: {}", tmp.string(), ec.message()));

    // Tokenizer first: it fixes the vocabulary.
    if (o.init_from.empty()) {
        write_hf_tokenizer(tmp.string(), training::train_tutorial_tokenizer(o.seed));
    } else {
        // Continuing: keep the previous run's tokenizer (its ids are the model's vocabulary).
        for (const char* f : {"tokenizer.json", "tokenizer_config.json"}) {
            fs::copy_file(fs::path(o.init_from) / f, tmp / f, fs::copy_options::overwrite_existing, ec);
            if (ec) throw IoError(fmt::format("--init {}: cannot copy {}: {}", o.init_from, f, ec.message()));
        }
    }
    std::unique_ptr<Tokenizer> tokenizer = load_hf_tokenizer(tmp.string());
    ModelConfig& c = recipe.config;
    c.d_vocab = tokenizer->vocab_size();
    c.bos_token_id = tokenizer->bos_id();
    c.eos_token_id = tokenizer->eos_id();
    c.validate();

    torch::manual_seed(o.seed);
    ModelWeights initial;
    if (!o.init_from.empty()) {
        LoadedModel previous = load_model(o.init_from);
        const ModelConfig& p = previous.model->config();
        if (p.n_layers != c.n_layers || p.d_model != c.d_model || p.n_heads != c.n_heads ||
            p.n_kv_heads != c.n_kv_heads || p.d_mlp != c.d_mlp || p.d_vocab != c.d_vocab)
            throw UsageError(fmt::format("--init {}: its shape ({} layers, d_model {}, vocab {}) is not the {} recipe's "
                                         "({} layers, d_model {}, vocab {})",
                                         o.init_from, p.n_layers, p.d_model, p.d_vocab, recipe.name, c.n_layers,
                                         c.d_model, c.d_vocab));
        initial = convert_weights(previous.model->weights(), p, at::kFloat, c10::Device(c10::DeviceType::CPU));
    } else {
        initial = init_weights(c, recipe.frozen_zero_mlp, recipe.shared_embedding);
    }
    HookedTransformer model(c, initial);
    std::vector<at::Tensor> params = model.enable_training();
    std::vector<at::Tensor> decay, no_decay;
    {
        std::vector<const at::Tensor*> frozen;
        if (recipe.frozen_zero_mlp)
            for (const LayerWeights& L : model.weights().layers)
                for (const at::Tensor* t : {&L.W_gate, &L.W_in, &L.W_out, &L.ln2_w}) frozen.push_back(t);
        for (at::Tensor& p : params) {
            bool is_frozen = false;
            for (const at::Tensor* f : frozen) is_frozen |= f->is_same(p);
            if (is_frozen) {
                p.requires_grad_(false);
                continue;
            }
            (p.dim() >= 2 ? decay : no_decay).push_back(p);
        }
    }
    std::vector<torch::optim::OptimizerParamGroup> groups;
    auto options = [&](double wd) {
        return std::make_unique<torch::optim::AdamWOptions>(
            torch::optim::AdamWOptions(recipe.lr).betas({0.9, 0.95}).eps(1e-8).weight_decay(wd));
    };
    groups.emplace_back(decay, options(recipe.weight_decay));
    groups.emplace_back(no_decay, options(0.0));
    torch::optim::AdamW optimizer(groups, torch::optim::AdamWOptions(recipe.lr));
    std::vector<at::Tensor> trainable = decay;
    trainable.insert(trainable.end(), no_decay.begin(), no_decay.end());

    std::unique_ptr<training::BatchSource> data = training::make_batch_source(recipe, *tokenizer, o.seed);
    std::ofstream log(tmp / "training_log.csv", std::ios::binary | std::ios::trunc);
    if (!log) throw IoError(fmt::format("{}: cannot write training_log.csv", tmp.string()));
    log << "step,loss,lr,tokens_per_s\n";

    TrainResult result;
    result.out_dir = dest.string();
    const auto start = std::chrono::steady_clock::now();
    for (int64_t step = 0; step < recipe.steps; ++step) {
        const double lr = lr_at(recipe, step, recipe.steps);
        for (auto& g : optimizer.param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
        training::Batch batch = data->next();
        optimizer.zero_grad();
        torch::Tensor logits = model.forward(batch.tokens);
        torch::Tensor loss = torch::nn::functional::cross_entropy(
            logits.view({-1, c.d_vocab}), batch.targets.view({-1}),
            torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-100));
        loss.backward();
        torch::nn::utils::clip_grad_norm_(trainable, recipe.clip_norm);
        optimizer.step();

        const double value = loss.item<double>();
        if (!std::isfinite(value))
            throw UsageError(fmt::format("training diverged at step {} (loss {}); try a lower learning rate", step + 1, value));
        result.losses.push_back(value);
        result.tokens += batch.loss_tokens;
        TrainProgress p;
        p.step = step + 1;
        p.total_steps = recipe.steps;
        p.loss = value;
        p.lr = lr;
        p.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        p.tokens_per_s = p.elapsed_s > 0 ? static_cast<double>(result.tokens) / p.elapsed_s : 0.0;
        p.eta_s = p.elapsed_s / static_cast<double>(p.step) * static_cast<double>(recipe.steps - p.step);
        log << fmt::format("{},{:.6f},{:.6g},{:.1f}\n", p.step, p.loss, p.lr, p.tokens_per_s);
        if (p.step % 50 == 0) log.flush();
        if (o.on_progress) o.on_progress(p);
    }
    log.close();
    model.disable_training();
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const size_t tail = std::min<size_t>(50, result.losses.size());
    for (size_t i = result.losses.size() - tail; i < result.losses.size(); ++i) result.final_loss += result.losses[i];
    if (tail > 0) result.final_loss /= static_cast<double>(tail);
    result.config = c;

    save_hf_llama(tmp.string(), c, model.weights());
    if (o.eval_prompts > 0) {
        // Score exactly what was written: reload the directory.
        LoadedModel saved = load_model(tmp.string());
        std::vector<tutorial::TaskPrompt> prompts;
        for (const std::string& task : recipe.eval_tasks) {
            auto p = tutorial::make_task_prompts(task, tutorial::kDefaultPromptSeed, o.eval_prompts);
            prompts.insert(prompts.end(), p.begin(), p.end());
        }
        result.scores = evaluate_tasks(*saved.model, *saved.tokenizer, prompts);
        if (recipe.frozen_zero_mlp) {
            training::InductionCircuit ic = training::measure_induction_circuit(
                *saved.model, training::lexicon_token_ids(*saved.tokenizer), saved.tokenizer->bos_id(), o.seed + 99);
            result.notes = training::describe_induction_circuit(ic);
        }
    }
    training::write_model_readme((tmp / "README.md").string(), recipe, o, result);
    replace_directory(tmp, dest);
    return result;
}

}  // namespace headscope
