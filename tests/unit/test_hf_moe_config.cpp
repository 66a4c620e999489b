// config.json -> ModelConfig for the mixture-of-experts families, on configs shaped like the
// published Mixtral-8x7B, Qwen1.5-MoE-A2.7B, Qwen3-30B-A3B and OLMoE-1B-7B ones and on the
// defaults of transformers' MixtralConfig / Qwen2MoeConfig / Qwen3MoeConfig / OlmoeConfig.
#include <catch2/catch.hpp>

#include "headscope/error.hpp"
#include "headscope/formats/hf_config.hpp"

using namespace headscope;

TEST_CASE("hf config: Mixtral-8x7B", "[hf_config][moe]") {
    const ModelConfig c = parse_hf_config(R"({"model_type": "mixtral", "hidden_size": 4096, "intermediate_size": 14336,
        "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8, "num_local_experts": 8,
        "num_experts_per_tok": 2, "max_position_embeddings": 32768, "rms_norm_eps": 1e-05, "rope_theta": 1000000.0,
        "sliding_window": null, "vocab_size": 32000, "hidden_act": "silu", "tie_word_embeddings": false})", "mixtral");
    CHECK(c.moe.n_experts == 8);
    CHECK(c.moe.top_k == 2);
    CHECK(c.moe.normalize_topk);  // Mixtral always renormalises
    CHECK(c.moe.d_expert == 14336);
    CHECK(c.moe.d_shared == 0);
    CHECK(c.moe.dense_layers.empty());
    CHECK(c.sliding_window.empty());
    CHECK(c.is_moe_layer(0));
    CHECK(c.is_moe_layer(31));
    CHECK(c.n_kv_heads == 8);
    CHECK(c.rope_theta == 1000000.0);
}

TEST_CASE("hf config: Qwen1.5-MoE-A2.7B (shared expert)", "[hf_config][moe]") {
    const ModelConfig c = parse_hf_config(R"({"model_type": "qwen2_moe", "hidden_size": 2048, "intermediate_size": 5632,
        "moe_intermediate_size": 1408, "shared_expert_intermediate_size": 5632, "num_experts": 60,
        "num_experts_per_tok": 4, "norm_topk_prob": false, "decoder_sparse_step": 1, "num_hidden_layers": 24,
        "num_attention_heads": 16, "num_key_value_heads": 16, "max_position_embeddings": 8192,
        "rope_theta": 1000000.0, "vocab_size": 151936, "use_sliding_window": false})", "qwen2_moe");
    CHECK(c.moe.n_experts == 60);
    CHECK(c.moe.top_k == 4);
    CHECK_FALSE(c.moe.normalize_topk);
    CHECK(c.moe.d_expert == 1408);
    CHECK(c.moe.d_shared == 5632);
    CHECK(c.d_mlp == 5632);  // dense layers' width
    CHECK(c.moe.dense_layers.empty());
}

TEST_CASE("hf config: Qwen3-30B-A3B and Qwen3MoeConfig's defaults", "[hf_config][moe]") {
    const ModelConfig c = parse_hf_config(R"({"model_type": "qwen3_moe", "hidden_size": 2048, "intermediate_size": 6144,
        "moe_intermediate_size": 768, "num_experts": 128, "num_experts_per_tok": 8, "norm_topk_prob": true,
        "num_hidden_layers": 48, "num_attention_heads": 32, "num_key_value_heads": 4, "head_dim": 128,
        "mlp_only_layers": [], "decoder_sparse_step": 1, "max_position_embeddings": 40960})", "qwen3-30b");
    CHECK(c.moe.n_experts == 128);
    CHECK(c.moe.top_k == 8);
    CHECK(c.moe.normalize_topk);
    CHECK(c.moe.d_expert == 768);
    CHECK(c.d_head == 128);
    CHECK(c.qk_norm == QkNorm::per_head);
    // Absent keys: the class defaults (128 experts, top-8, width 768, no renormalisation; 32/4 heads of 2048/32).
    const ModelConfig d = parse_hf_config(R"({"model_type": "qwen3_moe"})", "defaults");
    CHECK(d.moe.n_experts == 128);
    CHECK(d.moe.top_k == 8);
    CHECK(d.moe.d_expert == 768);
    CHECK_FALSE(d.moe.normalize_topk);
    CHECK(d.n_heads == 32);
    CHECK(d.n_kv_heads == 4);
    CHECK(d.d_head == 64);
}

TEST_CASE("hf config: OLMoE-1B-7B", "[hf_config][moe]") {
    const ModelConfig c = parse_hf_config(R"({"model_type": "olmoe", "hidden_size": 2048, "intermediate_size": 1024,
        "num_experts": 64, "num_experts_per_tok": 8, "num_hidden_layers": 16, "num_attention_heads": 16,
        "num_key_value_heads": 16, "norm_topk_prob": false, "clip_qkv": null, "rms_norm_eps": 1e-05,
        "vocab_size": 50304, "eos_token_id": 50279})", "olmoe");
    CHECK(c.moe.n_experts == 64);
    CHECK(c.moe.top_k == 8);
    CHECK(c.moe.d_expert == 1024);  // OLMoE's experts are intermediate_size wide
    CHECK_FALSE(c.moe.normalize_topk);
    CHECK(c.qk_norm == QkNorm::full_width);
    CHECK(c.norm_placement == NormPlacement::pre);
    CHECK_THROWS_WITH(parse_hf_config(R"({"model_type": "olmoe", "clip_qkv": 8.0})", "olmoe-clip"),
                      Catch::Contains("clip_qkv") && Catch::Contains("olmoe-clip"));
}

TEST_CASE("hf config: dense layers of Qwen-MoE (mlp_only_layers, decoder_sparse_step)", "[hf_config][moe]") {
    // Sparse iff not listed and (l + 1) % step == 0: with step 2 and layer 5 listed, 1, 3 and 7 stay sparse.
    const ModelConfig c = parse_hf_config(R"({"model_type": "qwen2_moe", "num_hidden_layers": 8,
        "decoder_sparse_step": 2, "mlp_only_layers": [5]})", "step");
    CHECK(c.moe.dense_layers == std::vector<int>{0, 2, 4, 5, 6});
    for (int l : {1, 3, 7}) CHECK(c.is_moe_layer(l));
    CHECK_FALSE(c.is_moe_layer(5));
    CHECK_THROWS_WITH(parse_hf_config(R"({"model_type": "qwen3_moe", "num_hidden_layers": 4, "mlp_only_layers": [4]})", "x"),
                      Catch::Contains("mlp_only_layers") && Catch::Contains("0..3"));
    CHECK_THROWS_WITH(parse_hf_config(R"({"model_type": "qwen3_moe", "use_sliding_window": true})", "x"),
                      Catch::Contains("use_sliding_window"));
    CHECK_THROWS_WITH(parse_hf_config(R"({"model_type": "mixtral", "num_local_experts": 4, "num_experts_per_tok": 5})", "x"),
                      Catch::Contains("num_experts_per_tok") && Catch::Contains("4 experts"));
    // num_experts 0: a dense model.
    const ModelConfig dense = parse_hf_config(R"({"model_type": "qwen2_moe", "num_experts": 0})", "dense");
    CHECK(dense.moe.n_experts == 0);
    CHECK_FALSE(dense.is_moe_layer(0));
}
