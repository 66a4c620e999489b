// The vocabulary of hook points. Names follow TransformerLens ("blocks.3.attn.hook_pattern") so
// users' habits carry over; inside headscope a hook point is a structured HookKey and names
// are rendered only at the edge. Torch-free.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "headscope/model_config.hpp"

namespace headscope {

// Every activation site. Shapes (B = batch, T = positions, H = query heads, K = kv heads):
enum class HookSite : int {
    // model level (layer = -1)
    embed,               // hook_embed            [B, T, d_model]
    pos_embed,           // hook_pos_embed        [B, T, d_model]   learned positions only
    ln_final_scale,      // ln_final.hook_scale   [B, T, 1]
    ln_final_normalized, // ln_final.hook_normalized [B, T, d_model] norm output (weight, bias applied)
    // per layer
    resid_pre,           // blocks.L.hook_resid_pre        [B, T, d_model]
    ln1_scale,           // blocks.L.ln1.hook_scale        [B, T, 1]
    ln1_normalized,      // blocks.L.ln1.hook_normalized   [B, T, d_model]
    attn_q,              // blocks.L.attn.hook_q           [B, T, H, d_head]
    attn_k,              // blocks.L.attn.hook_k           [B, T, K, d_head]
    attn_v,              // blocks.L.attn.hook_v           [B, T, K, d_head]
    attn_rot_q,          // blocks.L.attn.hook_rot_q       [B, T, H, d_head]  rotary only
    attn_rot_k,          // blocks.L.attn.hook_rot_k       [B, T, K, d_head]  rotary only
    attn_scores,         // blocks.L.attn.hook_attn_scores [B, H, T(query), T(key)] masked: -inf
    attn_pattern,        // blocks.L.attn.hook_pattern     [B, H, T(query), T(key)]
    attn_z,              // blocks.L.attn.hook_z           [B, T, H, d_head]
    attn_result,         // blocks.L.attn.hook_result      [B, T, H, d_model] computed only if hooked
    attn_out,            // blocks.L.hook_attn_out         [B, T, d_model]
    resid_mid,           // blocks.L.hook_resid_mid        [B, T, d_model]  sequential residual only
    ln2_scale,           // blocks.L.ln2.hook_scale        [B, T, 1]
    ln2_normalized,      // blocks.L.ln2.hook_normalized   [B, T, d_model]
    mlp_pre,             // blocks.L.mlp.hook_pre          [B, T, d_mlp]  (gate pre-activation if gated)
    mlp_pre_linear,      // blocks.L.mlp.hook_pre_linear   [B, T, d_mlp]  gated MLPs only (up projection)
    mlp_post,            // blocks.L.mlp.hook_post         [B, T, d_mlp]
    mlp_out,             // blocks.L.hook_mlp_out          [B, T, d_model]
    resid_post,          // blocks.L.hook_resid_post       [B, T, d_model]
    // per layer, only in families that have them (listed after the others to keep site numbers)
    attn_q_normed,       // blocks.L.attn.hook_q_normed    [B, T, H, d_head]  q after q_norm, before rotary
    attn_k_normed,       // blocks.L.attn.hook_k_normed    [B, T, K, d_head]  k after k_norm, before rotary
    ln1_post_scale,      // blocks.L.ln1_post.hook_scale   [B, T, 1]  norm of the attention output (post/pre+post)
    ln2_post_scale,      // blocks.L.ln2_post.hook_scale   [B, T, 1]  norm of the MLP output (post/pre+post)
    // per layer, mixture-of-experts MLPs only (E experts, k chosen per token); those layers have
    // no hook_pre / hook_pre_linear / hook_post
    mlp_router_logits,   // blocks.L.mlp.hook_router_logits  [B, T, E]  editing it changes the routing
    mlp_expert_indices,  // blocks.L.mlp.hook_expert_indices [B, T, k]  int64, highest weight first
    mlp_expert_weights,  // blocks.L.mlp.hook_expert_weights [B, T, k]  after top-k renormalisation
    mlp_expert_out,      // blocks.L.mlp.hook_expert_out     [B, T, k, d_model] each chosen expert's
                         //   output before weighting; computed only if hooked
};
inline constexpr int kHookSiteCount = static_cast<int>(HookSite::mlp_expert_out) + 1;

bool is_layer_site(HookSite site);

struct HookKey {
    HookSite site = HookSite::embed;
    int layer = -1;  // -1 for model-level sites
    bool operator==(const HookKey& o) const { return site == o.site && layer == o.layer; }
};

// "blocks.3.attn.hook_pattern", "hook_embed", ...
std::string hook_name(const HookKey& key);
// Inverse of hook_name; nullopt for anything else. For parsing user input at the edge only.
std::optional<HookKey> parse_hook_name(std::string_view name);
// TransformerLens-style shorthand: ("pattern", 3) -> "blocks.3.attn.hook_pattern";
// accepts the short names embed, pos_embed, resid_pre, ln1_scale, q, k, v, rot_q, rot_k,
// attn_scores, pattern, z, result, attn_out, resid_mid, ln2_scale, pre, pre_linear, post,
// mlp_out, resid_post, ln_final_scale, q_normed, k_normed, ln1_post_scale, ln2_post_scale,
// router_logits, expert_indices, expert_weights, expert_out. Throws UsageError for an unknown short name.
std::string hook_name(std::string_view short_name, int layer);

// The hook points a model of this configuration has, in forward order.
std::vector<HookKey> hook_points_of(const ModelConfig& config);

// Glob match as used for hook filters: '*' matches any run of characters (dots included),
// '?' one character; everything else literally.
bool glob_match(std::string_view pattern, std::string_view name);

}  // namespace headscope
