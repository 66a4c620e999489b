#include "headscope/hook_names.hpp"

#include <array>
#include <cstdlib>

#include "headscope/error.hpp"

namespace headscope {

namespace {

struct SiteName {
    HookSite site;
    const char* suffix;  // after "blocks.L." for layer sites
    const char* short_name;
};

// One table names every site (the single place hook names are spelled).
constexpr std::array<SiteName, kHookSiteCount> kSiteNames{{
    {HookSite::embed, "hook_embed", "embed"},
    {HookSite::pos_embed, "hook_pos_embed", "pos_embed"},
    {HookSite::ln_final_scale, "ln_final.hook_scale", "ln_final_scale"},
    {HookSite::ln_final_normalized, "ln_final.hook_normalized", "ln_final_normalized"},
    {HookSite::resid_pre, "hook_resid_pre", "resid_pre"},
    {HookSite::ln1_scale, "ln1.hook_scale", "ln1_scale"},
    {HookSite::ln1_normalized, "ln1.hook_normalized", "ln1_normalized"},
    {HookSite::attn_q, "attn.hook_q", "q"},
    {HookSite::attn_k, "attn.hook_k", "k"},
    {HookSite::attn_v, "attn.hook_v", "v"},
    {HookSite::attn_rot_q, "attn.hook_rot_q", "rot_q"},
    {HookSite::attn_rot_k, "attn.hook_rot_k", "rot_k"},
    {HookSite::attn_scores, "attn.hook_attn_scores", "attn_scores"},
    {HookSite::attn_pattern, "attn.hook_pattern", "pattern"},
    {HookSite::attn_z, "attn.hook_z", "z"},
    {HookSite::attn_result, "attn.hook_result", "result"},
    {HookSite::attn_out, "hook_attn_out", "attn_out"},
    {HookSite::resid_mid, "hook_resid_mid", "resid_mid"},
    {HookSite::ln2_scale, "ln2.hook_scale", "ln2_scale"},
    {HookSite::ln2_normalized, "ln2.hook_normalized", "ln2_normalized"},
    {HookSite::mlp_pre, "mlp.hook_pre", "pre"},
    {HookSite::mlp_pre_linear, "mlp.hook_pre_linear", "pre_linear"},
    {HookSite::mlp_post, "mlp.hook_post", "post"},
    {HookSite::mlp_out, "hook_mlp_out", "mlp_out"},
    {HookSite::resid_post, "hook_resid_post", "resid_post"},
    {HookSite::attn_q_normed, "attn.hook_q_normed", "q_normed"},
    {HookSite::attn_k_normed, "attn.hook_k_normed", "k_normed"},
    {HookSite::ln1_post_scale, "ln1_post.hook_scale", "ln1_post_scale"},
    {HookSite::ln2_post_scale, "ln2_post.hook_scale", "ln2_post_scale"},
    {HookSite::mlp_router_logits, "mlp.hook_router_logits", "router_logits"},
    {HookSite::mlp_expert_indices, "mlp.hook_expert_indices", "expert_indices"},
    {HookSite::mlp_expert_weights, "mlp.hook_expert_weights", "expert_weights"},
    {HookSite::mlp_expert_out, "mlp.hook_expert_out", "expert_out"},
}};

const SiteName& entry(HookSite site) { return kSiteNames[static_cast<size_t>(site)]; }

}  // namespace

bool is_layer_site(HookSite site) { return static_cast<int>(site) >= static_cast<int>(HookSite::resid_pre); }

std::string hook_name(const HookKey& key) {
    const char* suffix = entry(key.site).suffix;
    if (!is_layer_site(key.site)) return suffix;
    return "blocks." + std::to_string(key.layer) + "." + suffix;
}

std::optional<HookKey> parse_hook_name(std::string_view name) {
    int layer = -1;
    std::string_view rest = name;
    constexpr std::string_view kBlocks = "blocks.";
    if (rest.substr(0, kBlocks.size()) == kBlocks) {
        rest.remove_prefix(kBlocks.size());
        size_t dot = rest.find('.');
        if (dot == std::string_view::npos || dot == 0 || dot > 6) return std::nullopt;
        int value = 0;
        for (char c : rest.substr(0, dot)) {
            if (c < '0' || c > '9') return std::nullopt;
            value = value * 10 + (c - '0');
        }
        layer = value;
        rest.remove_prefix(dot + 1);
    }
    for (const auto& s : kSiteNames) {
        if (rest == s.suffix && is_layer_site(s.site) == (layer >= 0)) return HookKey{s.site, layer};
    }
    return std::nullopt;
}

std::string hook_name(std::string_view short_name, int layer) {
    for (const auto& s : kSiteNames) {
        if (short_name == s.short_name) {
            if (is_layer_site(s.site) && layer < 0)
                throw UsageError("hook '" + std::string(short_name) + "' needs a layer index");
            return hook_name(HookKey{s.site, is_layer_site(s.site) ? layer : -1});
        }
    }
    throw UsageError("unknown hook short name '" + std::string(short_name) +
                     "' (known: embed, pos_embed, resid_pre, ln1_scale, q, k, v, rot_q, rot_k, "
                     "attn_scores, pattern, z, result, attn_out, resid_mid, ln2_scale, pre, "
                     "pre_linear, post, mlp_out, resid_post, ln_final_scale, q_normed, k_normed, "
                     "ln1_post_scale, ln2_post_scale, router_logits, expert_indices, expert_weights, "
                     "expert_out)");
}

std::vector<HookKey> hook_points_of(const ModelConfig& c) {
    std::vector<HookKey> out;
    out.push_back({HookSite::embed, -1});
    if (c.positions == PositionKind::learned) out.push_back({HookSite::pos_embed, -1});
    const bool rotary = c.positions == PositionKind::rotary;
    for (int l = 0; l < c.n_layers; ++l) {
        auto add = [&](HookSite s) { out.push_back({s, l}); };
        add(HookSite::resid_pre);
        if (c.pre_norms()) {
            add(HookSite::ln1_scale);
            add(HookSite::ln1_normalized);
        }
        add(HookSite::attn_q);
        add(HookSite::attn_k);
        add(HookSite::attn_v);
        if (c.qk_norm != QkNorm::none) {
            add(HookSite::attn_q_normed);
            add(HookSite::attn_k_normed);
        }
        if (rotary) {
            add(HookSite::attn_rot_q);
            add(HookSite::attn_rot_k);
        }
        add(HookSite::attn_scores);
        add(HookSite::attn_pattern);
        add(HookSite::attn_z);
        add(HookSite::attn_result);
        if (c.post_norms()) add(HookSite::ln1_post_scale);
        add(HookSite::attn_out);
        if (!c.attn_only) {
            if (!c.parallel_residual) add(HookSite::resid_mid);
            if (c.pre_norms()) {
                add(HookSite::ln2_scale);
                add(HookSite::ln2_normalized);
            }
            if (c.is_moe_layer(l)) {  // the sparse MLP component's sites
                add(HookSite::mlp_router_logits);
                add(HookSite::mlp_expert_indices);
                add(HookSite::mlp_expert_weights);
                add(HookSite::mlp_expert_out);
            } else {
                add(HookSite::mlp_pre);
                if (c.gated_mlp) add(HookSite::mlp_pre_linear);
                add(HookSite::mlp_post);
            }
            if (c.post_norms()) add(HookSite::ln2_post_scale);
            add(HookSite::mlp_out);
        }
        add(HookSite::resid_post);
    }
    if (c.final_norm) {
        out.push_back({HookSite::ln_final_scale, -1});
        out.push_back({HookSite::ln_final_normalized, -1});
    }
    return out;
}

bool glob_match(std::string_view pattern, std::string_view name) {
    // Iterative wildcard match with single backtrack point (linear for one '*' run).
    size_t p = 0, n = 0, star = std::string_view::npos, mark = 0;
    while (n < name.size()) {
        if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == name[n])) {
            ++p;
            ++n;
        } else if (p < pattern.size() && pattern[p] == '*') {
            star = p++;
            mark = n;
        } else if (star != std::string_view::npos) {
            p = star + 1;
            n = ++mark;
        } else {
            return false;
        }
    }
    while (p < pattern.size() && pattern[p] == '*') ++p;
    return p == pattern.size();
}

}  // namespace headscope
