#include "training/induction_circuit.hpp"

#include <torch/torch.h>

#include "headscope/error.hpp"
#include "headscope/seeded_rng.hpp"

namespace headscope::training {

InductionCircuit measure_induction_circuit(HookedTransformer& model, const std::vector<int32_t>& pool, int32_t bos,
                                           uint64_t seed, int64_t batch, int64_t segment) {
    const ModelConfig& c = model.config();
    if (c.n_layers < 2) throw UsageError("the induction circuit needs at least two layers");
    if (static_cast<int64_t>(pool.size()) < segment) throw UsageError("token pool smaller than the segment");
    SeededRng rng(seed);
    std::vector<int64_t> data;
    for (int64_t b = 0; b < batch; ++b) {
        data.push_back(bos);
        std::vector<int64_t> seg;
        for (size_t i : rng.distinct(pool.size(), static_cast<size_t>(segment))) seg.push_back(pool[i]);
        data.insert(data.end(), seg.begin(), seg.end());
        data.insert(data.end(), seg.begin(), seg.end());
    }
    const int64_t T = 1 + 2 * segment;
    torch::Tensor tokens = torch::tensor(data, torch::kLong).view({batch, T});
    torch::NoGradGuard no_grad;
    const int last = c.n_layers - 1;
    const std::string pattern_last = "blocks." + std::to_string(last) + ".attn.hook_pattern";
    const std::string pattern_prev = "blocks." + std::to_string(last - 1) + ".attn.hook_pattern";
    CachedRun run = model.run_with_cache(tokens, {pattern_last, pattern_prev});

    // Second occurrence: positions 1+segment+i (token seg[i]) predict seg[i+1], i < segment-1.
    auto accuracy = [&](const torch::Tensor& logits) {
        torch::Tensor pred = logits.narrow(1, 1 + segment, segment - 1).argmax(-1);
        torch::Tensor want = tokens.narrow(1, 2 + segment, segment - 1);
        return pred.eq(want).to(torch::kDouble).mean().item<double>();
    };
    InductionCircuit out;
    out.repeat_accuracy = accuracy(run.logits);
    torch::Tensor p = run.cache.at(pattern_last).to(torch::kDouble);  // [B, H, T, T]
    torch::Tensor q = torch::arange(1 + segment, T - 1, torch::kLong);
    torch::Tensor k = q - segment + 1;  // the token after the first occurrence
    torch::Tensor induction = p.index({torch::indexing::Slice(), torch::indexing::Slice(), q, k});  // [B, H, n]
    torch::Tensor scores = induction.mean(std::vector<int64_t>{0, 2});
    torch::Tensor pp = run.cache.at(pattern_prev).to(torch::kDouble);
    torch::Tensor qa = torch::arange(1, T, torch::kLong);
    torch::Tensor prev = pp.index({torch::indexing::Slice(), torch::indexing::Slice(), qa, qa - 1}).mean(std::vector<int64_t>{0, 2});
    for (int64_t h = 0; h < c.n_heads; ++h) {
        out.induction_attention.push_back(scores[h].item<double>());
        out.previous_token_attention.push_back(prev[h].item<double>());
    }
    out.best_head = static_cast<int>(scores.argmax().item<int64_t>());
    const int64_t head = out.best_head;
    NamedHook ablate{"blocks." + std::to_string(last) + ".attn.hook_z",
                     [head](const at::Tensor& z, const HookPoint&) -> std::optional<at::Tensor> {
                         at::Tensor out = z.clone();
                         out.select(2, head).zero_();
                         return out;
                     }};
    out.ablated_accuracy = accuracy(model.run_with_hooks(tokens, {ablate}));
    return out;
}

}  // namespace headscope::training
