// HeadSweep: the same edit applied to each of many heads, one head per candidate run, fast. The
// run's residual stream (with optional base edits) is cached once; a candidate that edits a head
// of layer l re-runs only layers >= l from the cached blocks.{l}.hook_resid_pre
// (HookedTransformer::run_from_layer) — or, for z edits, from the cached hook_z of layer l
// (run_from_z: l's q/k/v and scores are not recomputed); candidates of one layer share a forward
// pass through the batch dimension (memory-bounded); logits are computed only at the scored
// positions, and the last layer runs only there (run_to_logits). The numbers
// equal one full hooked forward per head (tests/integration/test_head_sweep.cpp).
//
//   HeadSweep sweep(model, tokens);                  // tokens [N, T]: N prompts of equal length
//   sweep.run(all_heads, SweepEdit::zero(), [&](size_t first, const at::Tensor& logits) {
//       // logits [c, N, P, d_vocab] for candidates first .. first + c - 1
//   });
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "headscope/hooked_transformer.hpp"
#include "headscope/intervention_spec.hpp"
#include "headscope/sdk/head_ref.hpp"

namespace headscope {

// What a candidate does to its head.
struct SweepEdit {
    enum class Kind { set_z, scale_z, pattern };
    Kind kind = Kind::set_z;
    // set_z: layer -> the z put in, broadcastable to [1, T, H, d_head] or per prompt [N, T, H, d_head]
    // (T may be 1 with final_only).
    std::function<at::Tensor(int layer)> z_source;
    bool final_only = false;  // z edits: only the last position
    double value = 0.0;       // scale_z: the factor; pattern: the strength in [0, 1]
    PatternTarget target = PatternTarget::uniform;  // pattern (uniform, identity or previous)

    static SweepEdit zero(bool final_only = false);
    static SweepEdit set(std::function<at::Tensor(int layer)> z_source, bool final_only = false);
    static SweepEdit scale(double factor, bool final_only = false);
    static SweepEdit pattern(PatternTarget target, double strength);
};

class HeadSweep {
public:
    // Runs tokens [N, T] once with base_hooks (kept for every candidate) and caches the residual
    // stream. positions: the scored positions (negative from the end).
    HeadSweep(HookedTransformer& model, const at::Tensor& tokens, std::vector<NamedHook> base_hooks = {},
              std::vector<int64_t> positions = {-1});
    ~HeadSweep();

    // The base run's logits at the scored positions, [N, P, d_vocab].
    const at::Tensor& base_logits() const { return base_logits_; }
    int64_t prompts() const { return N_; }

    using ChunkScorer = std::function<void(size_t first, const at::Tensor& logits)>;
    // Candidate i = the base hooks + `edit` on heads[i]. score(first, logits [c, N, P, d_vocab]) is
    // called for candidates first..first+c-1 (indices into heads), grouped by layer; every
    // candidate is scored exactly once. check_cancelled runs between passes.
    void run(const std::vector<HeadRef>& heads, const SweepEdit& edit, const ChunkScorer& score,
             const std::function<void()>& check_cancelled = {});

    // Candidates per forward pass for this prompt batch (the memory bound).
    int64_t candidates_per_pass() const;

private:
    HookedTransformer& model_;
    std::vector<NamedHook> base_hooks_;
    std::vector<int64_t> positions_;
    std::vector<at::Tensor> resid_pre_;  // per layer [N, T, d_model]
    std::vector<at::Tensor> z_;          // per layer hook_z [N, T, H, d_head]
    at::Tensor base_logits_;
    int64_t N_ = 0, T_ = 0;
};

}  // namespace headscope
