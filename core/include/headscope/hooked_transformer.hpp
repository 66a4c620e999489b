// HookedTransformer: an explicit forward pass (Llama, GPT-2 and GPT-NeoX families from one
// ModelConfig) with a hook point at every activation site.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <memory>
#include <string>
#include <vector>

#include "headscope/activation_cache.hpp"
#include "headscope/hooks.hpp"
#include "headscope/model_config.hpp"
#include "headscope/model_weights.hpp"

namespace headscope {

// Where the compute-dtype weights live. resident: converted once at load and kept (interactive
// speed; what training needs). streamed: the weights stay as loaded (views of the memory-mapped
// file in their stored dtype, quantised blocks) and each layer is converted — upcast, dequantised,
// moved to the device — when it runs, so the peak is the file plus one layer. automatic: resident
// when the compute-dtype copy of the whole model is at most kResidentLimitBytes and nothing is
// quantised, streamed otherwise.
enum class WeightResidency { automatic, resident, streamed };
const char* to_string(WeightResidency r);

struct ComputeOptions {
    c10::Device device = c10::Device(c10::DeviceType::CPU);
    at::ScalarType dtype = at::kFloat;
    WeightResidency residency = WeightResidency::automatic;
};

struct LayerCompute;  // one layer's weights as the forward uses them (internal)

struct CachedRun {
    at::Tensor logits;  // [batch, pos, d_vocab]
    ActivationCache cache;
};

class HookedTransformer {
public:
    // Validates config and weights (ConfigError) and moves the weights to options' device/dtype.
    HookedTransformer(ModelConfig config, ModelWeights weights, ComputeOptions options = {});
    ~HookedTransformer();
    HookedTransformer(const HookedTransformer&) = delete;
    HookedTransformer& operator=(const HookedTransformer&) = delete;

    // Prompts at least this long compute attention in causal query blocks when no hook reads
    // hook_attn_scores or hook_pattern (same values, half the work, no [B, H, T, T] tensor).
    static constexpr int64_t kChunkedAttentionFrom = 512;
    // automatic residency keeps a converted copy of models up to this size (compute dtype).
    static constexpr int64_t kResidentLimitBytes = int64_t{256} << 20;

    const ModelConfig& config() const { return config_; }
    // Resident: every weight in the compute dtype on the compute device. Streamed: the weights as
    // loaded (stored dtype, on the host; quantised layer weights in `deferred`) — read a layer's
    // weights through layer_weights() to get them in the compute dtype.
    const ModelWeights& weights() const { return weights_; }
    const ComputeOptions& options() const { return options_; }
    // automatic -> resident or streamed for a model of `parameters` (quantised or not).
    static WeightResidency choose_residency(WeightResidency requested, int64_t parameters, bool quantized,
                                            at::ScalarType dtype);
    // The policy in force (never automatic) and one line saying it and why, for info/--verbose.
    WeightResidency residency() const { return residency_; }
    std::string weight_policy() const;
    // The matmul path for this dtype on this device, e.g. "bfloat16 GEMM (oneDNN, avx512_bf16)"
    // or "float32 GEMM on bfloat16 weights upcast per layer".
    std::string matmul_path() const;

    // Layer l's weights in the canonical layout, in the compute dtype on the compute device: the
    // resident copy, or (streamed) converted now from the stored weights for this caller only.
    // The one way analyses and the forward read a layer's weights. UsageError for a bad layer.
    LayerWeights layer_weights(int layer) const;
    // x [N, d_model] (compute dtype, after the final norm) -> logits [N, d_vocab] = x W_U + b_U (before
    // any final soft cap, which forward() applies after this),
    // converting a stored W_U one block of the vocabulary at a time.
    at::Tensor unembed(const at::Tensor& x) const;
    // Replaces the weights (e.g. after editing them); validated like the constructor's.
    void set_weights(ModelWeights weights);
    int64_t parameter_count() const;

    // Training: makes every stored weight a leaf that requires grad (tied W_U stays a view of
    // W_E) and returns them for an optimizer. While enabled, forward() re-derives its packed
    // matrices from the weights on every call so gradients flow to them; after optimizer steps
    // nothing else needs refreshing. disable_training() freezes the weights again.
    std::vector<at::Tensor> enable_training();
    void disable_training();
    bool training() const { return training_; }

    // tokens: [batch, pos] integer ids (every row the same length), or [pos] for one sequence.
    // Returns logits [batch, pos, d_vocab]. Throws UsageError for an empty batch, ids outside
    // the vocabulary, or more positions than n_ctx with learned positions.
    at::Tensor forward(const at::Tensor& tokens);
    // The same run, with logits only at logit_positions ([batch, P, d_vocab]; negative positions
    // count from the end; empty = every position): scoring the final position skips the
    // unembedding of the others (ln_final hooks then see [batch, P, d_model]). When nobody hooks
    // the last layer and P <= 64, that layer also runs its queries, W_O and MLP only at those
    // positions (its keys and values at all of them): the same numbers, 1/T of its work.
    at::Tensor forward(const at::Tensor& tokens, const std::vector<int64_t>& logit_positions);

    // The rest of a forward pass from a given residual stream: resid_pre is
    // blocks.{layer}.hook_resid_pre [batch, pos, d_model] (layer == n_layers: the final residual
    // stream); runs layers >= layer with the registered hooks (hook_resid_pre of `layer` included)
    // and returns the logits only at logit_positions ([batch, P, d_vocab]; negative positions
    // count from the end; empty = every position). ln_final hooks then see [batch, P, d_model].
    // With the resid_pre of a full run this equals forward()'s logits at those positions.
    at::Tensor run_from_layer(int layer, const at::Tensor& resid_pre, const std::vector<int64_t>& logit_positions = {});
    // A forward resumed inside layer `layer` after its hook_z: resid_pre [batch, pos, d_model] is the
    // layer's hook_resid_pre and z [batch, pos, n_heads, d_head] its hook_z, as a run left them (the
    // hooks of those sites and of the sites between them are not applied again). Runs the rest of
    // the layer (hook_result, W_O, hook_attn_out, the MLP, ...) and the layers above with the
    // registered hooks; logits as run_from_layer. Equals run_from_layer(layer, resid_pre) when z is
    // what that run computes at hook_z. An edit of z at layer l thus skips l's q/k/v and scores.
    at::Tensor run_from_z(int layer, const at::Tensor& resid_pre, const at::Tensor& z,
                          const std::vector<int64_t>& logit_positions = {});

    // --- hooks ---
    const std::vector<HookPoint>& hook_points() const;
    std::vector<std::string> resolve_hooks(const std::string& name_or_glob) const;
    // Registers fn at every matching point (UsageError if none); removed with the handle.
    HookHandle add_hook(const std::string& name_or_glob, HookFn fn);
    void remove_all_hooks();
    // hook_mark() before some work, remove_hooks_added_since(mark) after it: removes only the hooks
    // that work added (the caller's hooks and interventions stay).
    uint64_t hook_mark() const;
    void remove_hooks_added_since(uint64_t mark);
    // Runs with the given hooks for this call only.
    at::Tensor run_with_hooks(const at::Tensor& tokens, const std::vector<NamedHook>& hooks,
                              const std::vector<int64_t>& logit_positions = {});
    // Runs and caches every activation whose name matches one of `filters` (names or globs;
    // empty = everything except hook_result and hook_expert_out, which are only cached when named).
    // logit_positions as in forward(): logits (and ln_final activations) only there.
    CachedRun run_with_cache(const at::Tensor& tokens, const std::vector<std::string>& filters = {});
    CachedRun run_with_cache(const at::Tensor& tokens, const std::vector<std::string>& filters,
                             const std::vector<NamedHook>& hooks, const std::vector<int64_t>& logit_positions = {});

private:
    struct Packed;
    // The forward's one accessor for layer l's weights (called once at the start of the layer):
    // packed matrices in the compute dtype/device, from the resident copy or converted now.
    LayerCompute materialize_layer(int layer) const;
    // Attention of layer l on x [B, T, d_model] -> hook_attn_out [B, T, d_model]; with query_index
    // ([P] positions, long) only those queries are computed (keys and values still at all T) and
    // the result is [B, P, d_model] (only for a layer nobody hooks).
    at::Tensor attention(int layer, const LayerCompute& weights, const at::Tensor& x, int64_t positions,
                         const at::Tensor& query_index = {});
    // hook_z's value (hooks applied) -> hook_result, W_O, output norm, hook_attn_out.
    at::Tensor attention_output(int layer, const LayerCompute& weights, const at::Tensor& z);
    // The rest of a block after its attention: hook_resid_mid, the MLP, hook_resid_post.
    at::Tensor block_after_attention(int layer, const LayerCompute& weights, const at::Tensor& resid,
                                     const at::Tensor& attn_out);
    // True when no hook is registered at any site of layer l.
    bool layer_unhooked(int layer) const;
    // Positions (negative from the end) -> indices into T, checked.
    std::vector<int64_t> resolve_positions(const std::vector<int64_t>& positions, int64_t T) const;
    // Layers from.. on x, then the final norm and unembedding at `positions`: when the last layer has
    // no hooks it runs only at the scored positions (its keys and values at all of them).
    at::Tensor run_to_logits(int from, at::Tensor x, const std::vector<int64_t>& positions);
    // q [B, Tq, H, d_head] against k, v [B, T, K, d_head]; query_pos [Tq] when Tq < T (else 0..T-1).
    at::Tensor dense_attention(int layer, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                               const at::Tensor& query_pos = {});
    at::Tensor chunked_attention(int layer, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v);
    // The one score transform of both kernels: scale, soft-cap, causal + sliding-window mask.
    // scores [B, H, queries, keys] for query positions q0.. and key positions k0..
    // query_pos ([queries], long), when given, replaces the query positions q0...
    at::Tensor transform_scores(int layer, at::Tensor scores, int64_t q0, int64_t k0,
                                const at::Tensor& query_pos = {}) const;
    at::Tensor qk_norm(int layer, const at::Tensor& x, const at::Tensor& w, HookSite site);
    // x [B, T or P, heads, d_head]; with index ([P] of the T positions) x holds those positions only.
    at::Tensor rotate(int layer, const at::Tensor& x, int64_t positions, const at::Tensor& index = {});

    // One block (hook_resid_pre of `layer` .. hook_resid_post) on the residual stream x [B, T, d_model].
    // With query_index ([P], long; the layer unhooked) the block's output is [B, P, d_model], only there.
    at::Tensor block(int layer, const at::Tensor& x, const at::Tensor& query_index = {});
    void prepare_rotary(int64_t positions);  // rotary tables for a run of `positions`
    at::Tensor final_logits(at::Tensor x, const std::vector<int64_t>& positions);
    at::Tensor mlp(int layer, const LayerCompute& weights, const at::Tensor& x);
    at::Tensor norm(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b, HookSite scale_site,
                    HookSite normalized_site, int layer);
    // Output norm of post / pre+post placement (hooked at its scale only).
    at::Tensor post_norm(const at::Tensor& x, const at::Tensor& w, HookSite scale_site, int layer);
    void repack();
    void adopt_weights(ModelWeights weights);  // decides residency, converts (resident), repacks

    ModelConfig config_;
    ModelWeights weights_;
    ComputeOptions options_;
    WeightResidency residency_ = WeightResidency::resident;
    bool upcast_matmuls_ = false;  // bf16/f16 compute with float32 GEMMs (no fast half GEMM here)
    std::shared_ptr<HookRegistry> hooks_;
    std::unique_ptr<Packed> packed_;
    bool training_ = false;
};

}  // namespace headscope
