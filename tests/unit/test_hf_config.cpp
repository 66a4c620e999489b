// Hugging Face config.json -> ModelConfig, checked against the published configs of real
// models (GPT-2 small, Pythia-160m, Llama-2-7b, Mistral-7B, Qwen2-0.5B) and the defaults of
// transformers' configuration classes.
#include <catch2/catch.hpp>

#include <cmath>

#include "headscope/error.hpp"
#include "headscope/formats/hf_config.hpp"
#include "support/test_support.hpp"

using namespace headscope;
using namespace headscope::test;

namespace {

// openai-community/gpt2 config.json
const char* kGpt2Small = R"({
  "activation_function": "gelu_new",
  "architectures": ["GPT2LMHeadModel"],
  "attn_pdrop": 0.1,
  "bos_token_id": 50256,
  "embd_pdrop": 0.1,
  "eos_token_id": 50256,
  "initializer_range": 0.02,
  "layer_norm_epsilon": 1e-05,
  "model_type": "gpt2",
  "n_ctx": 1024,
  "n_embd": 768,
  "n_head": 12,
  "n_layer": 12,
  "n_positions": 1024,
  "resid_pdrop": 0.1,
  "summary_activation": null,
  "summary_first_dropout": 0.1,
  "summary_proj_to_labels": true,
  "summary_type": "cls_index",
  "summary_use_proj": true,
  "task_specific_params": {"text-generation": {"do_sample": true, "max_length": 50}},
  "vocab_size": 50257
})";

// EleutherAI/pythia-160m config.json
const char* kPythia160m = R"({
  "architectures": ["GPTNeoXForCausalLM"],
  "bos_token_id": 0,
  "eos_token_id": 0,
  "hidden_act": "gelu",
  "hidden_size": 768,
  "initializer_range": 0.02,
  "intermediate_size": 3072,
  "layer_norm_eps": 1e-05,
  "max_position_embeddings": 2048,
  "model_type": "gpt_neox",
  "num_attention_heads": 12,
  "num_hidden_layers": 12,
  "rotary_emb_base": 10000,
  "rotary_pct": 0.25,
  "tie_word_embeddings": false,
  "torch_dtype": "float16",
  "transformers_version": "4.24.0",
  "use_cache": true,
  "use_parallel_residual": true,
  "vocab_size": 50304
})";

// meta-llama/Llama-2-7b-hf config.json
const char* kLlama2_7b = R"({
  "_name_or_path": "meta-llama/Llama-2-7b-hf",
  "architectures": ["LlamaForCausalLM"],
  "bos_token_id": 1,
  "eos_token_id": 2,
  "hidden_act": "silu",
  "hidden_size": 4096,
  "initializer_range": 0.02,
  "intermediate_size": 11008,
  "max_position_embeddings": 4096,
  "model_type": "llama",
  "num_attention_heads": 32,
  "num_hidden_layers": 32,
  "num_key_value_heads": 32,
  "pretraining_tp": 1,
  "rms_norm_eps": 1e-05,
  "rope_scaling": null,
  "tie_word_embeddings": false,
  "torch_dtype": "float16",
  "transformers_version": "4.31.0.dev0",
  "use_cache": true,
  "vocab_size": 32000
})";

// mistralai/Mistral-7B-v0.1 config.json
const char* kMistral7b = R"({
  "architectures": ["MistralForCausalLM"],
  "bos_token_id": 1,
  "eos_token_id": 2,
  "hidden_act": "silu",
  "hidden_size": 4096,
  "initializer_range": 0.02,
  "intermediate_size": 14336,
  "max_position_embeddings": 32768,
  "model_type": "mistral",
  "num_attention_heads": 32,
  "num_hidden_layers": 32,
  "num_key_value_heads": 8,
  "rms_norm_eps": 1e-05,
  "rope_theta": 10000.0,
  "sliding_window": 4096,
  "tie_word_embeddings": false,
  "torch_dtype": "bfloat16",
  "transformers_version": "4.34.0.dev0",
  "use_cache": true,
  "vocab_size": 32000
})";

// Qwen/Qwen2-0.5B config.json
const char* kQwen2_05b = R"({
  "architectures": ["Qwen2ForCausalLM"],
  "attention_dropout": 0.0,
  "bos_token_id": 151643,
  "eos_token_id": 151643,
  "hidden_act": "silu",
  "hidden_size": 896,
  "initializer_range": 0.02,
  "intermediate_size": 4864,
  "max_position_embeddings": 131072,
  "max_window_layers": 24,
  "model_type": "qwen2",
  "num_attention_heads": 14,
  "num_hidden_layers": 24,
  "num_key_value_heads": 2,
  "rms_norm_eps": 1e-06,
  "rope_theta": 1000000.0,
  "sliding_window": 131072,
  "tie_word_embeddings": true,
  "torch_dtype": "bfloat16",
  "transformers_version": "4.40.1",
  "use_cache": true,
  "use_sliding_window": false,
  "vocab_size": 151936
})";

}  // namespace

TEST_CASE("hf config: GPT-2 small", "[hf_config]") {
    TempDir dir;
    write_file(dir.file("config.json"), kGpt2Small);
    ModelConfig c = read_hf_config(dir.path());
    CHECK(c.architecture == Architecture::gpt2);
    CHECK(c.model_type == "gpt2");
    CHECK(c.n_layers == 12);
    CHECK(c.d_model == 768);
    CHECK(c.n_heads == 12);
    CHECK(c.n_kv_heads == 12);
    CHECK(c.d_head == 64);
    CHECK(c.d_mlp == 3072);  // n_inner absent -> 4 * n_embd
    CHECK(c.d_vocab == 50257);
    CHECK(c.n_ctx == 1024);
    CHECK(c.norm == NormKind::layer);
    CHECK(c.norm_eps == 1e-5);
    CHECK(c.positions == PositionKind::learned);
    CHECK(c.activation == Activation::gelu_new);
    CHECK_FALSE(c.gated_mlp);
    CHECK_FALSE(c.parallel_residual);
    CHECK(c.tied_embeddings);
    CHECK(c.final_norm);
    CHECK(c.bos_token_id == 50256);
    CHECK(c.eos_token_id == 50256);
    // The file path is accepted as well as its directory.
    CHECK(read_hf_config(dir.file("config.json")).d_model == 768);
}

TEST_CASE("hf config: Pythia-160m (GPT-NeoX, partial rotary, parallel residual)", "[hf_config]") {
    ModelConfig c = parse_hf_config(kPythia160m, "pythia-160m/config.json");
    CHECK(c.architecture == Architecture::gpt_neox);
    CHECK(c.model_type == "gpt_neox");
    CHECK(c.n_layers == 12);
    CHECK(c.d_model == 768);
    CHECK(c.n_heads == 12);
    CHECK(c.n_kv_heads == 12);
    CHECK(c.d_head == 64);
    CHECK(c.d_mlp == 3072);
    CHECK(c.d_vocab == 50304);
    CHECK(c.n_ctx == 2048);
    CHECK(c.norm == NormKind::layer);
    CHECK(c.norm_eps == 1e-5);
    CHECK(c.positions == PositionKind::rotary);
    CHECK(c.rotary_style == RotaryStyle::half);
    CHECK(c.rotary_dim == 16);  // int(64 * 0.25)
    CHECK(c.rope_theta == 10000.0);
    CHECK(c.parallel_residual);
    CHECK_FALSE(c.gated_mlp);
    CHECK(c.activation == Activation::gelu);
    CHECK_FALSE(c.tied_embeddings);
    CHECK(c.bos_token_id == 0);
    CHECK(c.eos_token_id == 0);
}

TEST_CASE("hf config: Llama-2-7b", "[hf_config]") {
    ModelConfig c = parse_hf_config(kLlama2_7b, "llama");
    CHECK(c.architecture == Architecture::llama);
    CHECK(c.model_type == "llama");
    CHECK(c.name == "meta-llama/Llama-2-7b-hf");
    CHECK(c.n_layers == 32);
    CHECK(c.d_model == 4096);
    CHECK(c.n_heads == 32);
    CHECK(c.n_kv_heads == 32);
    CHECK(c.group_size() == 1);
    CHECK(c.d_head == 128);
    CHECK(c.d_mlp == 11008);
    CHECK(c.d_vocab == 32000);
    CHECK(c.n_ctx == 4096);
    CHECK(c.norm == NormKind::rms);
    CHECK(c.norm_eps == 1e-5);
    CHECK(c.positions == PositionKind::rotary);
    CHECK(c.rotary_style == RotaryStyle::half);
    CHECK(c.rotary_dim == 128);
    CHECK(c.rope_theta == 10000.0);  // LlamaConfig default
    CHECK(c.gated_mlp);
    CHECK(c.activation == Activation::silu);
    CHECK_FALSE(c.parallel_residual);
    CHECK_FALSE(c.tied_embeddings);
    CHECK(c.bos_token_id == 1);
    CHECK(c.eos_token_id == 2);
}

TEST_CASE("hf config: Mistral-7B (GQA 32/8, sliding window)", "[hf_config]") {
    ModelConfig c = parse_hf_config(kMistral7b, "mistral");
    CHECK(c.architecture == Architecture::llama);
    CHECK(c.model_type == "mistral");
    CHECK(c.n_heads == 32);
    CHECK(c.n_kv_heads == 8);
    CHECK(c.group_size() == 4);
    CHECK(c.d_head == 128);
    CHECK(c.d_mlp == 14336);
    CHECK(c.norm_eps == 1e-5);
    CHECK(c.rope_theta == 10000.0);
    // The window is real per-layer attention now; the context stays the model's.
    CHECK(c.n_ctx == 32768);
    CHECK(c.sliding_window == std::vector<int>(32, 4096));

    // v0.2 style: no sliding window, rope_theta 1e6.
    std::string v02 = kMistral7b;
    auto set = [&](const std::string& from, const std::string& to) {
        REQUIRE(v02.find(from) != std::string::npos);
        v02.replace(v02.find(from), from.size(), to);
    };
    set("\"sliding_window\": 4096", "\"sliding_window\": null");
    set("\"rope_theta\": 10000.0", "\"rope_theta\": 1000000.0");
    ModelConfig c2 = parse_hf_config(v02, "mistral-v0.2");
    CHECK(c2.n_ctx == 32768);
    CHECK(c2.sliding_window.empty());
    CHECK(c2.rope_theta == 1e6);
}

TEST_CASE("hf config: Qwen2-0.5B (14 heads / 2 kv heads, tied embeddings)", "[hf_config]") {
    ModelConfig c = parse_hf_config(kQwen2_05b, "qwen2");
    CHECK(c.architecture == Architecture::llama);
    CHECK(c.model_type == "qwen2");
    CHECK(c.n_layers == 24);
    CHECK(c.d_model == 896);
    CHECK(c.n_heads == 14);
    CHECK(c.n_kv_heads == 2);
    CHECK(c.group_size() == 7);
    CHECK(c.d_head == 64);
    CHECK(c.rotary_dim == 64);
    CHECK(c.d_mlp == 4864);
    CHECK(c.d_vocab == 151936);
    CHECK(c.n_ctx == 131072);  // use_sliding_window false
    CHECK(c.norm_eps == 1e-6);
    CHECK(c.rope_theta == 1e6);
    CHECK(c.tied_embeddings);
    CHECK(c.bos_token_id == 151643);
    CHECK(c.eos_token_id == 151643);

    // With use_sliding_window, layers >= max_window_layers slide over 4096 tokens.
    std::string sliding = kQwen2_05b;
    auto set = [&](const std::string& from, const std::string& to) {
        REQUIRE(sliding.find(from) != std::string::npos);
        sliding.replace(sliding.find(from), from.size(), to);
    };
    set("\"use_sliding_window\": false", "\"use_sliding_window\": true");
    set("\"max_window_layers\": 24", "\"max_window_layers\": 20");
    set("\"sliding_window\": 131072", "\"sliding_window\": 4096");
    ModelConfig cs = parse_hf_config(sliding, "qwen2-sliding");
    CHECK(cs.n_ctx == 131072);
    REQUIRE(cs.sliding_window.size() == 24);
    CHECK(cs.window(19) == 0);
    CHECK(cs.window(20) == 4096);
}

TEST_CASE("hf config: missing keys take transformers' class defaults", "[hf_config]") {
    ModelConfig llama = parse_hf_config(R"({"model_type": "llama"})", "t");
    CHECK(llama.d_model == 4096);
    CHECK(llama.n_layers == 32);
    CHECK(llama.n_kv_heads == 32);
    CHECK(llama.d_mlp == 11008);
    CHECK(llama.n_ctx == 2048);
    CHECK(llama.norm_eps == 1e-6);
    CHECK(llama.rope_theta == 10000.0);
    CHECK(llama.d_vocab == 32000);

    ModelConfig mistral = parse_hf_config(R"({"model_type": "mistral"})", "t");
    CHECK(mistral.n_kv_heads == 8);  // MistralConfig default when the key is absent
    CHECK(mistral.n_ctx == 4096 * 32);
    CHECK(mistral.window(0) == 4096);  // default sliding_window
    ModelConfig mistral_null = parse_hf_config(R"({"model_type": "mistral", "num_key_value_heads": null})", "t");
    CHECK(mistral_null.n_kv_heads == 32);  // null means "same as heads"

    ModelConfig qwen = parse_hf_config(R"({"model_type": "qwen2"})", "t");
    CHECK(qwen.d_vocab == 151936);
    CHECK(qwen.d_mlp == 22016);
    CHECK(qwen.n_ctx == 32768);
    CHECK(qwen.rope_theta == 10000.0);
    CHECK_FALSE(qwen.tied_embeddings);
    CHECK(qwen.bos_token_id == -1);

    ModelConfig neox = parse_hf_config(R"({"model_type": "gpt_neox"})", "t");
    CHECK(neox.d_model == 6144);
    CHECK(neox.d_head == 96);
    CHECK(neox.rotary_dim == 24);  // GPTNeoXConfig rotary_pct default 0.25
    CHECK(neox.parallel_residual);
    CHECK(neox.bos_token_id == 0);
    CHECK(neox.eos_token_id == 2);

    ModelConfig gpt2 = parse_hf_config(R"({"model_type": "gpt2", "n_embd": 64, "n_head": 4, "n_inner": null,
                                          "activation_function": "relu", "tie_word_embeddings": false})", "t");
    CHECK(gpt2.d_mlp == 256);
    CHECK(gpt2.d_head == 16);
    CHECK(gpt2.activation == Activation::relu);
    CHECK_FALSE(gpt2.tied_embeddings);
}

TEST_CASE("hf config: newer spellings (rope_parameters, head_dim, eos lists)", "[hf_config]") {
    ModelConfig q = parse_hf_config(R"({"model_type": "qwen2", "hidden_size": 896, "num_attention_heads": 14,
        "num_key_value_heads": 2, "rope_parameters": {"rope_type": "default", "rope_theta": 1000000.0}})", "t");
    CHECK(q.rope_theta == 1e6);
    ModelConfig n = parse_hf_config(R"({"model_type": "gpt_neox", "hidden_size": 512, "num_attention_heads": 8,
        "rope_parameters": {"rope_type": "default", "rope_theta": 10000, "partial_rotary_factor": 0.5}})", "t");
    CHECK(n.rotary_dim == 32);
    ModelConfig nemo = parse_hf_config(R"({"model_type": "mistral", "hidden_size": 5120, "num_attention_heads": 32,
        "num_key_value_heads": 8, "head_dim": 128, "sliding_window": null, "eos_token_id": [128001, 128009]})", "t");
    CHECK(nemo.d_head == 128);
    CHECK(nemo.rotary_dim == 128);
    CHECK(nemo.eos_token_id == 128001);
    ModelConfig neox20b = parse_hf_config(R"({"model_type": "gpt_neox", "hidden_act": "gelu_fast"})", "t");
    CHECK(neox20b.activation == Activation::gelu_new);
}

namespace {

std::string config_error(const std::string& text) {
    try {
        parse_hf_config(text, "dir/config.json");
    } catch (const ConfigError& e) {
        std::string what = e.what();
        CHECK_THAT(what, Catch::StartsWith("dir/config.json"));
        return what;
    }
    FAIL("expected a ConfigError for " << text);
    return {};
}

}  // namespace

TEST_CASE("hf config errors: model_type", "[hf_config]") {
    CHECK_THAT(config_error(R"({"model_type": "bert", "hidden_size": 768})"),
               Catch::Contains("\"bert\"") && Catch::Contains("gpt2, gpt_neox, llama, mistral, qwen2, qwen3, gemma, gemma2, gemma3_text, gemma3, phi3, olmo2"));
    CHECK_THAT(config_error(R"({"hidden_size": 768})"), Catch::Contains("model_type"));
    CHECK_THAT(config_error(R"({"model_type": 7})"), Catch::Contains("model_type") && Catch::Contains("string"));
}

TEST_CASE("hf config errors: wrong JSON types name the key", "[hf_config]") {
    CHECK_THAT(config_error(R"({"model_type": "gpt2", "n_embd": "768"})"),
               Catch::Contains("\"n_embd\"") && Catch::Contains("integer") && Catch::Contains("string"));
    CHECK_THAT(config_error(R"({"model_type": "llama", "num_hidden_layers": 12.5})"),
               Catch::Contains("\"num_hidden_layers\"") && Catch::Contains("floating-point"));
    CHECK_THAT(config_error(R"({"model_type": "llama", "rms_norm_eps": "1e-5"})"),
               Catch::Contains("\"rms_norm_eps\"") && Catch::Contains("number"));
    CHECK_THAT(config_error(R"({"model_type": "llama", "tie_word_embeddings": "true"})"),
               Catch::Contains("\"tie_word_embeddings\"") && Catch::Contains("true or false"));
    CHECK_THAT(config_error(R"({"model_type": "llama", "bos_token_id": -5})"), Catch::Contains("\"bos_token_id\""));
    CHECK_THAT(config_error(R"({"model_type": "llama", "rope_parameters": 5})"),
               Catch::Contains("\"rope_parameters\""));
}

TEST_CASE("hf config errors: impossible values", "[hf_config]") {
    CHECK_THAT(config_error(R"({"model_type": "llama", "num_attention_heads": 0})"),
               Catch::Contains("\"num_attention_heads\"") && Catch::Contains("out of range"));
    CHECK_THAT(config_error(R"({"model_type": "gpt2", "n_layer": 99999999999})"),
               Catch::Contains("\"n_layer\"") && Catch::Contains("out of range"));
    CHECK_THAT(config_error(R"({"model_type": "gpt2", "n_embd": 770, "n_head": 12})"),
               Catch::Contains("\"n_embd\"") && Catch::Contains("not divisible"));
    CHECK_THAT(config_error(R"({"model_type": "mistral", "num_attention_heads": 32, "num_key_value_heads": 5})"),
               Catch::Contains("\"num_key_value_heads\"") && Catch::Contains("does not divide"));
    CHECK_THAT(config_error(R"({"model_type": "gpt2", "layer_norm_epsilon": -1e-5})"),
               Catch::Contains("\"layer_norm_epsilon\""));
    CHECK_THAT(config_error(R"({"model_type": "gpt_neox", "rotary_pct": 1.5})"), Catch::Contains("\"rotary_pct\""));
    CHECK_THAT(config_error(R"({"model_type": "gpt_neox", "hidden_size": 64, "num_attention_heads": 4, "rotary_pct": 0.01})"),
               Catch::Contains("\"rotary_pct\"") && Catch::Contains("rotary_dim"));
    CHECK_THAT(config_error(R"({"model_type": "llama", "hidden_act": "gelu"})"),
               Catch::Contains("\"hidden_act\"") && Catch::Contains("silu"));
    CHECK_THAT(config_error(R"({"model_type": "gpt2", "activation_function": "swish"})"),
               Catch::Contains("\"activation_function\""));
    CHECK_THAT(config_error(R"({"model_type": "gpt2", "scale_attn_by_inverse_layer_idx": true})"),
               Catch::Contains("scale_attn_by_inverse_layer_idx"));
    CHECK_THAT(config_error(R"({"model_type": "llama", "partial_rotary_factor": 0.5})"),
               Catch::Contains("\"partial_rotary_factor\"") && Catch::Contains("not supported"));
    // validate() catches what no single key says, still naming the file.
    CHECK_THAT(config_error(R"({"model_type": "llama", "head_dim": 7})"), Catch::Contains("rotary_dim"));
}

TEST_CASE("hf config: RoPE scaling types as transformers resolves them", "[hf_config]") {
    ModelConfig lin = parse_hf_config(R"({"model_type": "llama", "rope_scaling": {"type": "linear", "factor": 2.0}})", "t");
    CHECK(lin.rope_scaling.kind == RopeScalingKind::linear);
    CHECK(lin.rope_scaling.factor == 2.0);
    ModelConfig l3 = parse_hf_config(R"({"model_type": "llama", "max_position_embeddings": 131072, "rope_scaling":
        {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192,
         "rope_type": "llama3"}})", "t");
    CHECK(l3.rope_scaling.kind == RopeScalingKind::llama3);
    CHECK(l3.rope_scaling.original_context == 8192);
    CHECK(l3.n_ctx == 131072);
    ModelConfig yarn = parse_hf_config(R"({"model_type": "qwen2", "rope_parameters": {"rope_type": "yarn", "factor": 4.0}})", "t");
    CHECK(yarn.rope_scaling.kind == RopeScalingKind::yarn);
    CHECK(yarn.rope_scaling.attention_factor == Approx(0.1 * std::log(4.0) + 1.0));
    ModelConfig dyn = parse_hf_config(R"({"model_type": "gpt_neox", "rope_scaling": {"type": "dynamic", "factor": 2.0}})", "t");
    CHECK(dyn.rope_scaling.kind == RopeScalingKind::dynamic);
    CHECK(dyn.n_ctx == 4096);  // 2048 * factor: dynamic NTK stretches with the prompt
}

TEST_CASE("hf config errors: unknown RoPE types are refused, listing the supported ones", "[hf_config]") {
    CHECK_THAT(config_error(R"({"model_type": "llama", "rope_scaling": {"type": "banana", "factor": 2.0}})"),
               Catch::Contains("\"rope_scaling\"") && Catch::Contains("banana") &&
                   Catch::Contains("linear, dynamic, llama3, yarn, longrope"));
    CHECK_THAT(config_error(R"({"model_type": "llama", "rope_scaling": {"rope_type": "llama3", "factor": 8.0}})"),
               Catch::Contains("low_freq_factor"));
    CHECK_THAT(config_error(R"({"model_type": "llama", "rope_scaling": {"rope_type": "longrope", "short_factor": [1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1],
        "long_factor": [1]}})"), Catch::Contains("phi3"));
}

TEST_CASE("hf config: today's families", "[hf_config]") {
    ModelConfig g2 = parse_hf_config(R"({"model_type": "gemma2", "num_hidden_layers": 4})", "t");
    CHECK(g2.d_head == 256);
    CHECK(g2.norm_placement == NormPlacement::sandwich);
    CHECK(g2.norm_weight_offset == 1.0);
    CHECK(g2.embed_scale == Approx(std::sqrt(2304.0)));
    CHECK(g2.attn_softcap == 50.0);
    CHECK(g2.final_softcap == 30.0);
    CHECK(g2.attn_scale == Approx(1.0 / 16.0));
    CHECK(g2.sliding_window == std::vector<int>{4096, 0, 4096, 0});
    CHECK(g2.n_ctx == 8192);
    CHECK(g2.activation == Activation::gelu_new);
    ModelConfig g3 = parse_hf_config(R"({"model_type": "gemma3_text", "num_hidden_layers": 6, "sliding_window": 512,
        "final_logit_softcapping": null})", "t");
    CHECK(g3.qk_norm == QkNorm::per_head);
    CHECK(g3.sliding_window == std::vector<int>{512, 512, 512, 512, 512, 0});
    CHECK(g3.rope_local_theta == 10000.0);
    CHECK(g3.rope_theta == 1e6);
    CHECK(g3.final_softcap == 0.0);
    ModelConfig g3v = parse_hf_config(R"({"model_type": "gemma3", "text_config": {"num_hidden_layers": 2,
        "layer_types": ["full_attention", "sliding_attention"]}})", "t");
    CHECK(g3v.model_type == "gemma3");
    CHECK(g3v.sliding_window == std::vector<int>{0, 4096});
    ModelConfig q3 = parse_hf_config(R"({"model_type": "qwen3"})", "t");
    CHECK(q3.qk_norm == QkNorm::per_head);
    CHECK(q3.d_head == 128);
    ModelConfig o2 = parse_hf_config(R"({"model_type": "olmo2"})", "t");
    CHECK(o2.norm_placement == NormPlacement::post);
    CHECK(o2.qk_norm == QkNorm::full_width);
    ModelConfig phi = parse_hf_config(R"({"model_type": "phi3", "hidden_size": 3072, "num_attention_heads": 24,
        "partial_rotary_factor": 0.75, "max_position_embeddings": 131072, "original_max_position_embeddings": 4096,
        "rope_scaling": {"type": "longrope", "short_factor": [1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1],
        "long_factor": [2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2]}})", "t");
    CHECK(phi.rotary_dim == 96);
    CHECK(phi.rope_scaling.kind == RopeScalingKind::longrope);
    CHECK(phi.rope_scaling.attention_factor == Approx(std::sqrt(1 + std::log(32.0) / std::log(4096.0))));
}

TEST_CASE("hf config errors: files", "[hf_config]") {
    TempDir dir;
    try {
        read_hf_config(dir.path());
        FAIL("expected FormatError");
    } catch (const FormatError& e) {
        CHECK(e.file() == dir.file("config.json"));
        CHECK_THAT(e.problem(), Catch::Contains("missing config.json"));
    }
    write_file(dir.file("config.json"), R"({"model_type": "gpt2", )");
    try {
        read_hf_config(dir.path());
        FAIL("expected FormatError");
    } catch (const FormatError& e) {
        CHECK(e.file() == dir.file("config.json"));
        CHECK_THAT(e.problem(), Catch::Contains("not valid JSON"));
    }
    CHECK_THROWS_AS(parse_hf_config("[1, 2]", "x"), FormatError);
    CHECK_THROWS_AS(parse_hf_config("", "x"), FormatError);
}
