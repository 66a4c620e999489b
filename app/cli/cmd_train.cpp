// headscope train --recipe NAME --out DIR [--steps N] [--seed S] [--tiny]
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>

#include <fmt/format.h>
#include <torch/torch.h>

#include "cli_common.hpp"
#include "headscope/threads.hpp"
#include "headscope/training.hpp"

namespace headscope::cli {

namespace {

struct TrainCliOptions {
    TrainOptions train;
    int threads = 0;
    bool quiet = false;
};

std::string clock_text(double seconds) {
    const long s = static_cast<long>(seconds + 0.5);
    return s >= 3600 ? fmt::format("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
                     : fmt::format("{:02}:{:02}", s / 60, s % 60);
}

// One line redrawn with \r on a terminal; a line every ~5% (and at least every 30 s) otherwise.
class ProgressBar {
public:
    ProgressBar() : tty_(isatty(fileno(stderr)) != 0) {}
    void update(const TrainProgress& p) {
        const auto now = std::chrono::steady_clock::now();
        const bool last = p.step == p.total_steps;
        if (tty_) {
            if (!last && now - last_draw_ < std::chrono::milliseconds(200)) return;
        } else {
            const int64_t every = std::max<int64_t>(1, p.total_steps / 20);
            if (!last && p.step % every != 0 && now - last_draw_ < std::chrono::seconds(30)) return;
        }
        last_draw_ = now;
        const double frac = static_cast<double>(p.step) / static_cast<double>(p.total_steps);
        const int width = 24, filled = static_cast<int>(frac * width);
        const std::string bar = std::string(static_cast<size_t>(filled), '#') + std::string(static_cast<size_t>(width - filled), '.');
        const std::string line = fmt::format("[{}] step {}/{}  loss {:.4f}  lr {:.2e}  {:.0f} tok/s  elapsed {}  ETA {}",
                                             bar, p.step, p.total_steps, p.loss, p.lr, p.tokens_per_s,
                                             clock_text(p.elapsed_s), clock_text(p.eta_s));
        if (tty_) std::cerr << "\r" << line << "\x1b[K" << (last ? "\n" : "") << std::flush;
        else std::cerr << line << "\n" << std::flush;
    }

private:
    bool tty_;
    std::chrono::steady_clock::time_point last_draw_{};
};

void run_train(TrainCliOptions& o) {
    configure_threads(o.threads);
    ProgressBar bar;
    if (!o.quiet) o.train.on_progress = [&bar](const TrainProgress& p) { bar.update(p); };
    TrainResult r = train_recipe(o.train);
    std::cout << fmt::format("trained {} -> {}\n", o.train.recipe, r.out_dir);
    std::cout << fmt::format("steps {}  final loss {:.4f}  {} tokens in {}\n", r.losses.size(), r.final_loss, r.tokens,
                             clock_text(r.seconds));
    for (const TaskScore& t : r.scores)
        std::cout << fmt::format("  {:<24} accuracy {:6.1f}%  logit diff {:6.2f}  ({} prompts)\n", t.task,
                                 100 * t.accuracy, t.mean_logit_diff, t.count);
    for (const std::string& n : r.notes) std::cout << "  " << n << "\n";
}

}  // namespace

void register_train(CLI::App& app) {
    auto o = std::make_shared<TrainCliOptions>();
    CLI::App* cmd = app.add_subcommand("train", "train a built-in tutorial model and write it as a Hugging Face directory");
    cmd->add_option("--recipe", o->train.recipe, "recipe: induction-2l or tiny-world")
        ->required()
        ->check(CLI::IsMember(recipe_names()));
    cmd->add_option("--out", o->train.out_dir, "output directory (written as DIR.tmp, then renamed)")->required();
    cmd->add_option("--steps", o->train.steps, "optimizer steps (default: the recipe's)")->check(CLI::PositiveNumber);
    cmd->add_option("--seed", o->train.seed, "random seed (same seed, same model)")->capture_default_str();
    cmd->add_option("--eval-prompts", o->train.eval_prompts, "held-out prompts per task scored after training (0: none)")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--init", o->train.init_from, "continue from a model this recipe trained before (its directory)")
        ->check(CLI::ExistingDirectory);
    cmd->add_flag("--tiny", o->train.tiny, "a miniature model and batch (smoke tests)");
    cmd->add_option("--threads", o->threads, "at most N CPU threads (default 0: the CPUs this process may use - affinity, cgroup quota, MPI ranks on the node; fewer while other processes keep CPUs busy, see README)");
    cmd->add_flag("--quiet,-q", o->quiet, "no progress output");
    cmd->callback([o] { run_train(*o); });
}

}  // namespace headscope::cli
