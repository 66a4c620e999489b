// headscope info MODEL [--json]
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
