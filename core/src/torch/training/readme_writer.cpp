#include "training/readme_writer.hpp"

#include <fstream>

#include <fmt/format.h>

#include "headscope/error.hpp"
#include "headscope/tutorial_tasks.hpp"

namespace headscope::training {

std::vector<std::string> describe_induction_circuit(const InductionCircuit& ic) {
    std::vector<std::string> lines;
    lines.push_back(fmt::format("Repeat accuracy (BOS + 20 random tokens + the same 20, next-token top-1 over the "
                                "second occurrence, 64 sequences): {:.1f}%",
                                100 * ic.repeat_accuracy));
    std::string prev = "Previous-token attention of layer-0 heads (mean attention to position-1):";
    for (size_t h = 0; h < ic.previous_token_attention.size(); ++h)
        prev += fmt::format(" L0H{}={:.2f}", h, ic.previous_token_attention[h]);
    lines.push_back(prev);
    std::string ind = "Induction attention of layer-1 heads (mean attention from the second occurrence to the token "
                      "after the first occurrence):";
    for (size_t h = 0; h < ic.induction_attention.size(); ++h)
        ind += fmt::format(" L1H{}={:.2f}", h, ic.induction_attention[h]);
    lines.push_back(ind);
    lines.push_back(fmt::format("Zero-ablating L1H{} (blocks.1.attn.hook_z): repeat accuracy {:.1f}% -> {:.1f}%",
                                ic.best_head, 100 * ic.repeat_accuracy, 100 * ic.ablated_accuracy));
    return lines;
}

void write_model_readme(const std::string& path, const Recipe& r, const TrainOptions& o, const TrainResult& res) {
    const ModelConfig& c = res.config;
    std::string s;
    s += fmt::format("# {}\n\n{}.\n\n", r.name, r.description);
    s += "A headscope built-in tutorial model, trained by headscope itself; a Hugging Face Llama directory "
         "(config.json, model.safetensors in float32, tokenizer.json) that any Llama loader reads.\n\n";
    s += "## Training\n\n";
    s += fmt::format("- command: `headscope train --recipe {} --out <dir> --steps {} --seed {}{}{}`\n", r.name, r.steps,
                     o.seed, o.tiny ? " --tiny" : "", o.init_from.empty() ? "" : " --init <previous run>");
    if (!o.init_from.empty())
        s += "- continued from a previous run of this recipe (see its README in the history); the loss log "
             "covers this continuation only\n";
    s += fmt::format("- model: {} layers, d_model {}, {} query / {} kv heads of {}, d_mlp {}{}, vocab {}, context {}\n",
                     c.n_layers, c.d_model, c.n_heads, c.n_kv_heads, c.d_head, c.d_mlp,
                     r.frozen_zero_mlp ? " (all MLP weights zero and frozen: attention-only)" : "", c.d_vocab, c.n_ctx);
    s += fmt::format("- optimizer: AdamW (betas 0.9/0.95, weight decay {}), lr {:g} with {} warmup steps and cosine "
                     "decay to {:g}, gradient clipping at {}\n",
                     r.weight_decay, r.lr, r.warmup_steps, r.lr * r.min_lr_ratio, r.clip_norm);
    s += fmt::format("- batch {} rows, {} steps, {} tokens, {:.0f} s\n", r.batch_size, res.losses.size(), res.tokens,
                     res.seconds);
    s += fmt::format("- final loss (mean of the last 50 steps): {:.4f}; the per-step log is training_log.csv\n\n",
                     res.final_loss);
    if (!res.scores.empty()) {
        s += fmt::format("## Held-out task scores\n\nMeasured on the reloaded directory with the prompt sets of "
                         "`headscope prompts --seed {}` (data/prompts); accuracy is top-1 of the answer's first "
                         "token, logit diff is answer - alternative.\n\n",
                         tutorial::kDefaultPromptSeed);
        s += "| task | prompts | accuracy | mean logit diff |\n|---|---|---|---|\n";
        for (const TaskScore& t : res.scores)
            s += fmt::format("| {} | {} | {:.1f}% | {:.2f} |\n", t.task, t.count, 100 * t.accuracy, t.mean_logit_diff);
        s += "\n";
        for (const TaskScore& t : res.scores)
            if (t.task == "capitals_counterfactual")
                s += fmt::format("In-context override rate (capitals_counterfactual accuracy): {:.1f}%.\n\n",
                                 100 * t.accuracy);
    }
    if (!res.notes.empty()) {
        s += "## Circuit measurements\n\n";
        for (const std::string& n : res.notes) s += "- " + n + "\n";
        s += "\n";
    }
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << s;
    out.flush();
    if (!out) throw IoError(fmt::format("{}: write failed", path));
}

}  // namespace headscope::training
