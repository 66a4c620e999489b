// headscope info MODEL [--json]
#include <algorithm>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli_common.hpp"
#include "headscope/hook_names.hpp"

namespace headscope::cli {

namespace {
struct InfoOptions {
    ModelOptions model;
    bool json = false;
};

// Config and tensor headers only: no weight is read, whatever the checkpoint's size.
void run_info(const InfoOptions& o) {
    const ModelDescription m = describe_model(model_path(o.model));
    std::string tokenizer_path;
    const std::shared_ptr<const Tokenizer> tokenizer = load_tokenizer_only(o.model, &tokenizer_path);
    const ModelConfig& c = m.config;
    const ComputeOptions compute = compute_options(o.model);
    const WeightResidency residency =
        HookedTransformer::choose_residency(compute.residency, m.parameters, m.quantized, compute.dtype);
    nlohmann::ordered_json j;
    j["path"] = m.path;
    j["format"] = to_string(m.format);
    j["architecture"] = to_string(c.architecture);
    j["model_type"] = c.model_type;
    if (!c.name.empty()) j["name"] = c.name;
    j["n_layers"] = c.n_layers;
    j["n_heads"] = c.n_heads;
    j["n_kv_heads"] = c.n_kv_heads;
    j["d_model"] = c.d_model;
    j["d_head"] = c.d_head;
    j["d_mlp"] = c.d_mlp;
    j["d_vocab"] = c.d_vocab;
    j["n_ctx"] = c.n_ctx;
    j["norm"] = to_string(c.norm);
    j["norm_eps"] = c.norm_eps;
    j["positions"] = to_string(c.positions);
    if (c.positions == PositionKind::rotary) {
        j["rotary_dim"] = c.rotary_dim;
        j["rotary_style"] = to_string(c.rotary_style);
        j["rope_theta"] = c.rope_theta;
        const RopeScaling& r = c.rope_scaling;
        if (r.kind != RopeScalingKind::none) {
            nlohmann::ordered_json rs;
            rs["type"] = to_string(r.kind);
            if (r.kind != RopeScalingKind::longrope && r.kind != RopeScalingKind::freq_factors) rs["factor"] = r.factor;
            if (!r.freq_factors.empty()) {  // one divisor per frequency: their range and count
                const auto [lo, hi] = std::minmax_element(r.freq_factors.begin(), r.freq_factors.end());
                rs["factors"] = {{"min", *lo}, {"max", *hi}, {"count", r.freq_factors.size()}};
            }
            if (r.original_context > 0) rs["original_context"] = r.original_context;
            if (r.attention_factor != 1.0) rs["attention_factor"] = r.attention_factor;
            if (c.rope_local_theta > 0) rs["applies_to"] = "global layers";
            j["rope_scaling"] = rs;
        }
        if (c.rope_local_theta > 0) j["rope_local_theta"] = c.rope_local_theta;
    }
    // What sets this family apart (only what differs from a plain pre-norm decoder).
    j["norm_placement"] = to_string(c.norm_placement);
    if (c.qk_norm != QkNorm::none) j["qk_norm"] = to_string(c.qk_norm);
    if (c.norm_weight_offset != 0) j["norm_weight"] = fmt::format("{} + w (folded into the loaded weights)", c.norm_weight_offset);
    if (c.embed_scale != 1.0) j["embed_scale"] = c.embed_scale;
    if (c.attn_scale > 0) j["attn_scale"] = c.attn_scale;
    if (c.attn_softcap > 0) j["attn_softcap"] = c.attn_softcap;
    if (c.final_softcap > 0) j["final_softcap"] = c.final_softcap;
    if (!c.sliding_window.empty()) {
        // "4096,0,4096,..." per layer, 0 = global.
        std::string per_layer;
        for (size_t l = 0; l < c.sliding_window.size(); ++l)
            per_layer += (l ? "," : "") + std::to_string(c.sliding_window[l]);
        j["sliding_window"] = per_layer;
    }
    if (c.moe.n_experts > 0) {
        nlohmann::ordered_json e;
        e["count"] = c.moe.n_experts;
        e["per_token"] = c.moe.top_k;
        e["weights"] = c.moe.normalize_topk ? "softmax, top-k renormalised to 1" : "softmax over all experts, top-k kept as is";
        e["d_expert"] = c.moe.d_expert;
        if (c.moe.d_shared > 0) e["shared_expert"] = c.moe.d_shared;
        if (!c.moe.dense_layers.empty()) {
            std::string dense;
            for (size_t i = 0; i < c.moe.dense_layers.size(); ++i) dense += (i ? "," : "") + std::to_string(c.moe.dense_layers[i]);
            e["dense_layers"] = dense;
        }
        j["experts"] = e;
    }
    j["activation"] = to_string(c.activation);
    j["gated_mlp"] = c.gated_mlp;
    j["parallel_residual"] = c.parallel_residual;
    j["tied_embeddings"] = c.tied_embeddings;
    j["parameters"] = m.parameters;
    j["storage"] = m.storage_types;
    j["stored_bytes"] = m.stored_bytes;
    j["weights"] = fmt::format("{} in {} ({})", to_string(residency), c10::toString(compute.dtype),
                               residency == WeightResidency::resident
                                   ? "converted once at load and kept"
                                   : "each layer converted from the memory-mapped file when it runs");
    j["memory_estimate"] = estimate_memory(m, compute, 2048).summary() + " for 2048 tokens";
    j["hook_points"] = hook_points_of(c).size();
    j["tokenizer"] = tokenizer_path;
    j["bos_token_id"] = tokenizer->bos_id();
    j["eos_token_id"] = tokenizer->eos_id();
    if (o.json) {
        std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
        return;
    }
    for (auto it = j.begin(); it != j.end(); ++it) {
        std::string value = it->is_string() ? it->get<std::string>() : it->dump();
        std::cout << fmt::format("{:<18} {}\n", it.key(), value);
    }
}
}  // namespace

void register_info(CLI::App& app) {
    auto opts = std::make_shared<InfoOptions>();
    CLI::App* cmd = app.add_subcommand("info", "show a model's architecture, sizes, parameter and hook point counts");
    add_model_options(*cmd, opts->model);
    cmd->add_flag("--json", opts->json, "print JSON");
    cmd->callback([opts] { run_info(*opts); });
}

}  // namespace headscope::cli
