#include "head_detectors/repeated_tokens.hpp"

#include <torch/torch.h>

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "headscope/error.hpp"
#include "headscope/seeded_rng.hpp"

namespace headscope::detectors {

at::Tensor random_repeated_tokens(const HookedTransformer& model, const Tokenizer& tokenizer, int64_t R, int64_t B,
                                  uint64_t seed, bool trained_only, const std::string& who) {
    const ModelConfig& c = model.config();
    int64_t bos = tokenizer.bos_id() >= 0 ? tokenizer.bos_id() : c.bos_token_id;
    if (bos >= c.d_vocab) bos = -1;
    const int64_t T = 2 * R + (bos >= 0 ? 1 : 0);
    if (c.positions == PositionKind::learned && T > c.n_ctx)
        throw UsageError(fmt::format("{}: sequences of {} tokens (seq_len {} twice{}) exceed the "
                                     "model's context of {}; lower seq_len to at most {}",
                                     who, T, R, bos >= 0 ? " plus BOS" : "", c.n_ctx, (c.n_ctx - (bos >= 0 ? 1 : 0)) / 2));
    const int64_t vocab = std::min<int64_t>(c.d_vocab, tokenizer.vocab_size() > 0 ? tokenizer.vocab_size()
                                                                                        : c.d_vocab);
    // Rows of W_E far shorter than the typical trained row never received a gradient.
    std::vector<double> norms;
    double min_norm = 0.0;
    if (trained_only) {
        torch::NoGradGuard no_grad;
        const at::Tensor n = model.weights().W_E.narrow(0, 0, vocab).to(at::kDouble).norm(2, {1}).contiguous();
        norms.assign(n.data_ptr<double>(), n.data_ptr<double>() + vocab);
        std::vector<double> sorted = norms;
        std::sort(sorted.begin(), sorted.end());
        min_norm = 0.5 * sorted[static_cast<size_t>((vocab - 1) * 99 / 100)];
    }
    std::vector<int64_t> pool;
    for (int64_t id = 0; id < vocab; ++id)
        if (id != bos && id != tokenizer.eos_id() && id != c.eos_token_id && id != tokenizer.bos_id() &&
            (norms.empty() || norms[static_cast<size_t>(id)] >= min_norm))
            pool.push_back(id);
    if (pool.empty()) throw UsageError(who + ": the vocabulary has no ordinary tokens to sample");
    SeededRng rng(seed);
    std::vector<int64_t> ids;
    ids.reserve(static_cast<size_t>(B * T));
    for (int64_t b = 0; b < B; ++b) {
        std::vector<int64_t> seg;
        if (static_cast<int64_t>(pool.size()) >= R) {
            for (size_t i : rng.distinct(pool.size(), static_cast<size_t>(R))) seg.push_back(pool[i]);
        } else {
            for (int64_t i = 0; i < R; ++i) seg.push_back(rng.pick(pool));
        }
        if (bos >= 0) ids.push_back(bos);
        ids.insert(ids.end(), seg.begin(), seg.end());
        ids.insert(ids.end(), seg.begin(), seg.end());
    }
    return torch::tensor(ids, torch::kLong).view({B, T});
}

}  // namespace headscope::detectors
