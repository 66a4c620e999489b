// Canonical weights -> a Hugging Face Llama directory (config.json + model.safetensors): the
// exact inverse of load_llama_weights with the HF llama name table (rotate-half rotary layout,
// so no permutation of q/k rows).
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "headscope/error.hpp"
#include "headscope/formats/safetensors_file.hpp"
#include "headscope/training.hpp"

namespace headscope {

namespace {

void check_plain_llama(const ModelConfig& c, const ModelWeights& w) {
    auto refuse = [](const char* what) {
        throw UsageError(fmt::format("save_hf_llama: the model is not a plain Llama ({})", what));
    };
    if (c.architecture != Architecture::llama) refuse("architecture is not llama");
    if (c.norm != NormKind::rms) refuse("norm is not RMSNorm");
    if (c.positions != PositionKind::rotary || c.rotary_dim != c.d_head) refuse("positions are not full rotary");
    if (c.rotary_style != RotaryStyle::half) refuse("rotary style is not half (HF layout)");
    if (!c.gated_mlp || c.activation != Activation::silu || c.attn_only || c.d_mlp <= 0) refuse("MLP is not gated SiLU");
    if (c.moe.n_experts > 0) refuse("its MLPs are mixtures of experts");
    if (c.parallel_residual || !c.final_norm) refuse("residual layout differs");
    if (c.norm_placement != NormPlacement::pre || c.qk_norm != QkNorm::none) refuse("norms are not pre-norms only");
    if (c.norm_weight_offset != 0 || c.embed_scale != 1.0 || c.attn_scale > 0 || c.attn_softcap > 0 ||
        c.final_softcap > 0)
        refuse("it scales embeddings, queries, norms or logits (Gemma)");
    if (!c.sliding_window.empty() || c.rope_scaling.kind != RopeScalingKind::none || c.rope_local_theta > 0)
        refuse("it has sliding windows or rotary scaling");
    for (const LayerWeights& L : w.layers)
        if (L.b_Q.defined() || L.b_K.defined() || L.b_V.defined() || L.b_O.defined() || L.b_in.defined() ||
            L.b_out.defined() || L.b_gate.defined())
            refuse("it has biases");
    if (w.b_U.defined()) refuse("it has an unembedding bias");
    validate_weights(c, w);
}

std::string layer_name(int l, const char* rest) { return fmt::format("model.layers.{}.{}", l, rest); }

}  // namespace

void save_hf_llama(const std::string& directory, const ModelConfig& c, const ModelWeights& w) {
    check_plain_llama(c, w);
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::create_directories(directory, ec);
    if (ec) throw IoError(fmt::format("{}: cannot create directory: {}", directory, ec.message()));

    const int64_t d = c.d_model, H = c.n_heads, K = c.n_kv_heads, dh = c.d_head;
    std::vector<std::pair<std::string, torch::Tensor>> tensors;
    auto add = [&](std::string name, const torch::Tensor& t) {
        tensors.emplace_back(std::move(name), t.detach().to(torch::kCPU, torch::kFloat).contiguous());
    };
    // [heads, d_model, d_head] -> [heads*d_head (out), d_model (in)]
    auto heads_in = [&](const torch::Tensor& t, int64_t heads) { return t.permute({0, 2, 1}).reshape({heads * dh, d}); };
    add("model.embed_tokens.weight", w.W_E);
    for (int l = 0; l < c.n_layers; ++l) {
        const LayerWeights& L = w.layers[static_cast<size_t>(l)];
        add(layer_name(l, "input_layernorm.weight"), L.ln1_w);
        add(layer_name(l, "self_attn.q_proj.weight"), heads_in(L.W_Q, H));
        add(layer_name(l, "self_attn.k_proj.weight"), heads_in(L.W_K, K));
        add(layer_name(l, "self_attn.v_proj.weight"), heads_in(L.W_V, K));
        add(layer_name(l, "self_attn.o_proj.weight"), L.W_O.reshape({H * dh, d}).t());
        add(layer_name(l, "post_attention_layernorm.weight"), L.ln2_w);
        add(layer_name(l, "mlp.gate_proj.weight"), L.W_gate.t());
        add(layer_name(l, "mlp.up_proj.weight"), L.W_in.t());
        add(layer_name(l, "mlp.down_proj.weight"), L.W_out.t());
    }
    add("model.norm.weight", w.ln_final_w);
    if (!c.tied_embeddings) add("lm_head.weight", w.W_U.t());

    std::vector<SafetensorsTensorView> views;
    for (const auto& [name, t] : tensors)
        views.push_back({name, std::vector<int64_t>(t.sizes().begin(), t.sizes().end()), t.data_ptr<float>()});
    write_safetensors((fs::path(directory) / "model.safetensors").string(), views, {{"format", "pt"}});

    nlohmann::ordered_json j;
    j["_name_or_path"] = c.name;
    j["architectures"] = {"LlamaForCausalLM"};
    j["model_type"] = "llama";
    j["hidden_size"] = c.d_model;
    j["intermediate_size"] = c.d_mlp;
    j["num_hidden_layers"] = c.n_layers;
    j["num_attention_heads"] = c.n_heads;
    j["num_key_value_heads"] = c.n_kv_heads;
    j["head_dim"] = c.d_head;
    j["max_position_embeddings"] = c.n_ctx;
    j["vocab_size"] = c.d_vocab;
    j["rms_norm_eps"] = c.norm_eps;
    j["rope_theta"] = c.rope_theta;
    j["rope_scaling"] = nullptr;
    j["hidden_act"] = "silu";
    j["attention_bias"] = false;
    j["attention_dropout"] = 0.0;
    j["mlp_bias"] = false;
    j["pretraining_tp"] = 1;
    j["tie_word_embeddings"] = c.tied_embeddings;
    j["bos_token_id"] = c.bos_token_id;
    j["eos_token_id"] = c.eos_token_id;
    j["initializer_range"] = 0.02;
    j["use_cache"] = true;
    j["torch_dtype"] = "float32";
    const fs::path config = fs::path(directory) / "config.json";
    std::ofstream out(config, std::ios::binary | std::ios::trunc);
    out << j.dump(2) << "\n";
    out.flush();
    if (!out) throw IoError(fmt::format("{}: write failed", config.string()));
}

}  // namespace headscope
