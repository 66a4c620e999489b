#include <torch/torch.h>

#include <random>

#include "headscope/error.hpp"
#include "headscope/generation.hpp"

namespace headscope {

std::vector<int32_t> generate(HookedTransformer& model, const std::vector<int32_t>& prompt,
                              const GenerateOptions& options, const std::function<void(int32_t)>& on_token) {
    if (prompt.empty()) throw UsageError("generate: the prompt has no tokens (start from BOS)");
    if (options.temperature < 0) throw UsageError("generate: temperature must be >= 0");
    torch::NoGradGuard no_grad;
    const ModelConfig& c = model.config();
    std::vector<int64_t> seq(prompt.begin(), prompt.end());
    std::vector<int32_t> out;
    std::mt19937_64 rng(options.seed);
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    for (int step = 0; step < options.max_tokens && static_cast<int>(seq.size()) < c.n_ctx; ++step) {
        torch::Tensor tokens = torch::tensor(seq, torch::kLong).unsqueeze(0);
        torch::Tensor logits = model.forward(tokens).select(1, static_cast<int64_t>(seq.size()) - 1).squeeze(0);
        logits = logits.to(torch::kCPU, torch::kFloat64).contiguous();
        const double* l = logits.data_ptr<double>();
        const int64_t V = logits.size(0);
        int32_t next = 0;
        if (options.temperature == 0.0) {
            for (int64_t i = 1; i < V; ++i)
                if (l[i] > l[next]) next = static_cast<int32_t>(i);
        } else {
            double max = l[0];
            for (int64_t i = 1; i < V; ++i) max = std::max(max, l[i]);
            std::vector<double> p(static_cast<size_t>(V));
            double sum = 0;
            for (int64_t i = 0; i < V; ++i) sum += p[static_cast<size_t>(i)] = std::exp((l[i] - max) / options.temperature);
            double r = uniform(rng) * sum, acc = 0;
            next = static_cast<int32_t>(V - 1);
            for (int64_t i = 0; i < V; ++i) {
                acc += p[static_cast<size_t>(i)];
                if (r < acc) {
                    next = static_cast<int32_t>(i);
                    break;
                }
            }
        }
        if (options.stop_at_eos && (next == c.eos_token_id || next == c.bos_token_id)) break;
        out.push_back(next);
        seq.push_back(next);
        if (on_token) on_token(next);
    }
    return out;
}

}  // namespace headscope
