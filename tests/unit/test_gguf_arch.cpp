// GGUF metadata and tensor-name tables for every family, on small GGUF files whose keys and
// tensor names are spelled here as llama.cpp writes them (llama-arch.cpp, convert_hf_to_gguf).
#include <catch2/catch.hpp>

#include <map>

#include "headscope/error.hpp"
#include "headscope/formats/gguf_arch.hpp"
#include "headscope/formats/gguf_file.hpp"
#include "support/test_support.hpp"
#include "test_gguf_builder.hpp"

using namespace headscope;
using test::gguf::GgufBuilder;

namespace {
constexpr int64_t kD = 8, kH = 2, kK = 1, kDh = 4, kF = 12, kV = 16, kE = 4, kFs = 6;

struct Tensors {
    std::vector<std::pair<std::string, std::vector<int64_t>>> list;  // name, row-major shape
    void add(std::string name, std::vector<int64_t> shape) { list.emplace_back(std::move(name), std::move(shape)); }
    void drop(const std::string& name) {
        for (auto it = list.begin(); it != list.end(); ++it)
            if (it->first == name) {
                list.erase(it);
                return;
            }
        FAIL("no tensor " << name);
    }
    void reshape(const std::string& name, std::vector<int64_t> shape) {
        for (auto& t : list)
            if (t.first == name) t.second = std::move(shape);
    }
};

// The tensors a llama.cpp conversion of a tiny model of this kind holds.
struct Family {
    std::string arch;
    int layers = 2;
    bool pre_norms = true, post_norms = false, bias = false, experts = false, shared = false;
    std::string qk_norm;  // "", "head", "full"
    bool fused = false;   // phi3
};

Family family(std::string arch, int layers = 2) {
    Family f;
    f.arch = std::move(arch);
    f.layers = layers;
    return f;
}

Tensors tensors_of(const Family& f) {
    Tensors t;
    t.add("token_embd.weight", {kV, kD});
    t.add("output_norm.weight", {kD});
    for (int l = 0; l < f.layers; ++l) {
        const std::string p = "blk." + std::to_string(l) + ".";
        if (f.pre_norms) t.add(p + "attn_norm.weight", {kD});
        if (f.fused) {
            t.add(p + "attn_qkv.weight", {(kH + 2 * kK) * kDh, kD});
        } else {
            t.add(p + "attn_q.weight", {kH * kDh, kD});
            t.add(p + "attn_k.weight", {kK * kDh, kD});
            t.add(p + "attn_v.weight", {kK * kDh, kD});
        }
        if (f.bias) {
            t.add(p + "attn_q.bias", {kH * kDh});
            t.add(p + "attn_k.bias", {kK * kDh});
            t.add(p + "attn_v.bias", {kK * kDh});
        }
        t.add(p + "attn_output.weight", {kD, kH * kDh});
        if (f.qk_norm == "head") {
            t.add(p + "attn_q_norm.weight", {kDh});
            t.add(p + "attn_k_norm.weight", {kDh});
        } else if (f.qk_norm == "full") {
            t.add(p + "attn_q_norm.weight", {kH * kDh});
            t.add(p + "attn_k_norm.weight", {kK * kDh});
        }
        if (f.post_norms) t.add(p + "post_attention_norm.weight", {kD});
        if (f.pre_norms) t.add(p + "ffn_norm.weight", {kD});
        if (f.experts) {
            t.add(p + "ffn_gate_inp.weight", {kE, kD});
            t.add(p + "ffn_gate_exps.weight", {kE, kF, kD});
            t.add(p + "ffn_up_exps.weight", {kE, kF, kD});
            t.add(p + "ffn_down_exps.weight", {kE, kD, kF});
            if (f.shared) {
                t.add(p + "ffn_gate_inp_shexp.weight", {kD});
                t.add(p + "ffn_gate_shexp.weight", {kFs, kD});
                t.add(p + "ffn_up_shexp.weight", {kFs, kD});
                t.add(p + "ffn_down_shexp.weight", {kD, kFs});
            }
        } else if (f.fused) {
            t.add(p + "ffn_up.weight", {2 * kF, kD});
            t.add(p + "ffn_down.weight", {kD, kF});
        } else {
            t.add(p + "ffn_gate.weight", {kF, kD});
            t.add(p + "ffn_up.weight", {kF, kD});
            t.add(p + "ffn_down.weight", {kD, kF});
        }
        if (f.post_norms) t.add(p + "post_ffw_norm.weight", {kD});
    }
    return t;
}

GgufBuilder metadata(const Family& f, const std::map<std::string, uint32_t>& extra_u32 = {}) {
    GgufBuilder b;
    const std::string a = f.arch;
    b.kv_string("general.architecture", a);
    b.kv_u32(a + ".context_length", 64);
    b.kv_u32(a + ".embedding_length", kD);
    b.kv_u32(a + ".block_count", static_cast<uint32_t>(f.layers));
    b.kv_u32(a + ".feed_forward_length", kF);
    b.kv_u32(a + ".attention.head_count", kH);
    b.kv_u32(a + ".attention.head_count_kv", kK);
    b.kv_f32(a + ".attention.layer_norm_rms_epsilon", 1e-6f);
    b.kv_f32(a + ".rope.freq_base", 1e6f);
    for (const auto& [key, value] : extra_u32) b.kv_u32(a + "." + key, value);
    return b;
}

// 1-D tensors with given values (rotary factors), written besides the zero-filled ones.
using Vectors = std::vector<std::pair<std::string, std::vector<float>>>;

std::string write(const test::TempDir& tmp, GgufBuilder b, const Tensors& t, const Vectors& vectors = {}) {
    for (const auto& [name, values] : vectors) b.f32_tensor(name, {values.size()}, values);
    for (const auto& [name, shape] : t.list) {
        std::vector<uint64_t> ne(shape.rbegin(), shape.rend());
        int64_t n = 1;
        for (int64_t d : shape) n *= d;
        b.f32_tensor(name, ne, std::vector<float>(static_cast<size_t>(n), 0.f));
    }
    static int counter = 0;
    const std::string path = tmp.file("m" + std::to_string(counter++) + ".gguf");
    test::write_file(path, b.build());
    return path;
}

GgufArchSettings settings_of(const std::string& path) {
    GgufFile file(path);
    return gguf_arch_settings(file);
}
}  // namespace

TEST_CASE("GGUF arch: gemma2 soft-caps, alternating sliding window, pre+post norms stored +1", "[gguf][gguf_arch]") {
    test::TempDir tmp;
    Family f = family("gemma2", 4);
    f.post_norms = true;
    GgufBuilder b = metadata(f, {{"attention.sliding_window", 16}, {"attention.key_length", kDh},
                                 {"attention.value_length", kDh}});
    b.kv_f32("gemma2.attn_logit_softcapping", 50.f);
    b.kv_f32("gemma2.final_logit_softcapping", 30.f);
    const auto s = settings_of(write(tmp, b, tensors_of(f)));
    CHECK(s.family == "gemma2");
    CHECK(s.norm_placement == GgufNormPlacement::pre_and_post);
    CHECK(s.norm_plus_one_stored);
    CHECK(s.scale_embeddings);
    CHECK(s.activation == Activation::gelu);
    CHECK(s.rotary_style == RotaryStyle::half);
    CHECK(s.attn_logit_softcap == 50.0);
    CHECK(s.final_logit_softcap == 30.0);
    CHECK(s.sliding_window == 16);
    CHECK(s.sliding_layers == std::vector<bool>{true, false, true, false});
    CHECK(s.tied_embeddings);
    CHECK(s.attention_scale == Approx(0.5));  // 1/sqrt(d_head 4)
    CHECK(gguf_canonical_name(s, "blk.1.post_attention_norm.weight") == std::string("blocks.1.ln1_post.w"));
    CHECK(gguf_canonical_name(s, "blk.3.post_ffw_norm.weight") == std::string("blocks.3.ln2_post.w"));
    CHECK(gguf_canonical_name(s, "blk.0.ffn_gate.weight") == std::string("blocks.0.mlp.W_gate"));
    CHECK(gguf_canonical_name(s, "blk.4.ffn_gate.weight") == std::nullopt);  // only 4 layers
    CHECK(gguf_canonical_name(s, "token_embd.weight") == std::string("embed.W_E"));
}

TEST_CASE("GGUF arch: gemma3 sliding pattern of 6, local rope base, per-head q/k norms", "[gguf][gguf_arch]") {
    test::TempDir tmp;
    Family f = family("gemma3", 7);
    f.post_norms = true;
    f.qk_norm = "head";
    const auto s = settings_of(write(tmp, metadata(f, {{"attention.sliding_window", 32}}), tensors_of(f)));
    CHECK(s.family == "gemma3_text");
    CHECK(s.sliding_layers == std::vector<bool>{true, true, true, true, true, false, true});
    CHECK(s.rope_theta == 1e6);
    CHECK(s.rope_theta_local == 10000.0);
    CHECK_FALSE(s.attn_logit_softcap);
    CHECK(s.qk_norm == GgufQkNorm::per_head);
    CHECK(gguf_canonical_name(s, "blk.6.attn_k_norm.weight") == std::string("blocks.6.attn.k_norm.w"));
}

TEST_CASE("GGUF arch: dense families", "[gguf][gguf_arch]") {
    test::TempDir tmp;
    SECTION("llama stores q/k permuted for interleaved rotary; mistral is llama") {
        Family f = family("llama");
        const auto s = settings_of(write(tmp, metadata(f), tensors_of(f)));
        CHECK(s.family == "llama");
        CHECK(s.rotary_style == RotaryStyle::interleaved);
        CHECK_FALSE(s.is_moe());
        CHECK(s.n_kv_heads == 1);
        CHECK(s.d_head == 4);
    }
    SECTION("qwen2: q/k/v biases, half rotary") {
        Family f = family("qwen2");
        f.bias = true;
        const auto s = settings_of(write(tmp, metadata(f), tensors_of(f)));
        CHECK(s.qkv_bias);
        CHECK(s.rotary_style == RotaryStyle::half);
        CHECK(gguf_canonical_name(s, "blk.1.attn_k.bias") == std::string("blocks.1.attn.b_K"));
        Tensors t = tensors_of(f);
        t.drop("blk.1.attn_v.bias");
        CHECK_THROWS_WITH(settings_of(write(tmp, metadata(f), t)),
                          Catch::Contains("tensor 'blk.1.attn_v.bias' (blocks.1.attn.b_V) is missing"));
    }
    SECTION("qwen3: per-head q/k norms") {
        Family f = family("qwen3");
        f.qk_norm = "head";
        const auto s = settings_of(write(tmp, metadata(f), tensors_of(f)));
        CHECK(s.qk_norm == GgufQkNorm::per_head);
        Tensors t = tensors_of(f);
        t.reshape("blk.0.attn_q_norm.weight", {kH * kDh});
        CHECK_THROWS_WITH(settings_of(write(tmp, metadata(f), t)),
                          Catch::Contains("tensor 'blk.0.attn_q_norm.weight' (blocks.0.attn.q_norm.w) has shape [8], "
                                          "expected [4]"));
    }
    SECTION("phi3: fused qkv and gate+up, sliding window on every layer") {
        Family f = family("phi3");
        f.fused = true;
        const auto s = settings_of(write(tmp, metadata(f, {{"attention.sliding_window", 8}}), tensors_of(f)));
        CHECK(s.fused_qkv);
        CHECK(s.fused_gate_up);
        CHECK(s.sliding_layers == std::vector<bool>{true, true});
        CHECK(gguf_canonical_name(s, "blk.0.attn_qkv.weight") == std::string("blocks.0.attn.W_QKV"));
    }
    SECTION("olmo2: post-norms only, full-width q/k norms") {
        Family f = family("olmo2");
        f.pre_norms = false;
        f.post_norms = true;
        f.qk_norm = "full";
        const auto s = settings_of(write(tmp, metadata(f), tensors_of(f)));
        CHECK(s.norm_placement == GgufNormPlacement::post);
        CHECK(s.qk_norm == GgufQkNorm::full_width);
        CHECK(gguf_canonical_name(s, "blk.0.attn_norm.weight") == std::nullopt);
    }
}

TEST_CASE("GGUF arch: mixture-of-experts families", "[gguf][gguf_arch][moe]") {
    test::TempDir tmp;
    const std::map<std::string, uint32_t> experts{{"expert_count", kE}, {"expert_used_count", 2}};
    SECTION("mixtral is llama with experts; softmax over the top-k renormalised") {
        Family f = family("llama");
        f.experts = true;
        const auto s = settings_of(write(tmp, metadata(f, experts), tensors_of(f)));
        CHECK(s.family == "mixtral");
        CHECK(s.rotary_style == RotaryStyle::interleaved);
        CHECK(s.n_experts == kE);
        CHECK(s.n_experts_used == 2);
        CHECK(s.d_expert == kF);
        CHECK(s.normalize_topk);
        CHECK(gguf_canonical_name(s, "blk.1.ffn_gate_exps.weight") == std::string("blocks.1.mlp.experts.W_gate"));
        CHECK(gguf_canonical_name(s, "blk.1.ffn_gate_inp.weight") == std::string("blocks.1.mlp.W_router"));
    }
    SECTION("mixtral with per-expert tensors (older conversions)") {
        Family f = family("llama", 1);
        Tensors t = tensors_of(f);
        for (const char* n : {"ffn_gate", "ffn_up", "ffn_down"}) t.drop(std::string("blk.0.") + n + ".weight");
        t.add("blk.0.ffn_gate_inp.weight", {kE, kD});
        for (int e = 0; e < kE; ++e) {
            const std::string p = "blk.0.", x = "." + std::to_string(e) + ".weight";
            t.add(p + "ffn_gate" + x, {kF, kD});
            t.add(p + "ffn_up" + x, {kF, kD});
            t.add(p + "ffn_down" + x, {kD, kF});
        }
        const auto s = settings_of(write(tmp, metadata(f, experts), t));
        CHECK(s.legacy_expert_tensors);
        CHECK(gguf_canonical_name(s, "blk.0.ffn_down.3.weight") == std::string("blocks.0.mlp.experts.3.W_out"));
        t.drop("blk.0.ffn_up.2.weight");
        CHECK_THROWS_WITH(settings_of(write(tmp, metadata(f, experts), t)),
                          Catch::Contains("tensor 'blk.0.ffn_up.2.weight'") && Catch::Contains("is missing") &&
                              Catch::Contains("4 experts"));
    }
    SECTION("qwen2moe: shared expert with its sigmoid gate, no renormalisation") {
        Family f = family("qwen2moe");
        f.bias = f.experts = f.shared = true;
        auto keys = experts;
        keys["expert_feed_forward_length"] = kF;
        keys["expert_shared_feed_forward_length"] = kFs;
        const auto s = settings_of(write(tmp, metadata(f, keys), tensors_of(f)));
        CHECK(s.family == "qwen2_moe");
        CHECK(s.d_shared_expert == kFs);
        CHECK_FALSE(s.normalize_topk);
        CHECK(gguf_canonical_name(s, "blk.0.ffn_gate_inp_shexp.weight") == std::string("blocks.0.mlp.shared.W_router"));
        CHECK(gguf_canonical_name(s, "blk.0.ffn_down_shexp.weight") == std::string("blocks.0.mlp.shared.W_out"));
    }
    SECTION("qwen3moe: renormalised top-k, overridable by expert_weights_norm") {
        Family f = family("qwen3moe");
        f.experts = true;
        f.qk_norm = "head";
        CHECK(settings_of(write(tmp, metadata(f, experts), tensors_of(f))).normalize_topk);
        GgufBuilder b = metadata(f, experts);
        b.kv_bool("qwen3moe.expert_weights_norm", false);
        CHECK_FALSE(settings_of(write(tmp, b, tensors_of(f))).normalize_topk);
    }
    SECTION("olmoe: full-width q/k norms, no renormalisation") {
        Family f = family("olmoe");
        f.experts = true;
        f.qk_norm = "full";
        const auto s = settings_of(write(tmp, metadata(f, experts), tensors_of(f)));
        CHECK(s.family == "olmoe");
        CHECK_FALSE(s.normalize_topk);
        CHECK(s.qk_norm == GgufQkNorm::full_width);
    }
    SECTION("malformed expert metadata and tensors are named") {
        Family f = family("qwen3moe");
        f.experts = true;
        f.qk_norm = "head";
        Tensors t = tensors_of(f);
        t.reshape("blk.1.ffn_up_exps.weight", {kE - 1, kF, kD});
        CHECK_THROWS_WITH(settings_of(write(tmp, metadata(f, experts), t)),
                          Catch::Contains("tensor 'blk.1.ffn_up_exps.weight' (blocks.1.mlp.experts.W_in) has shape "
                                          "[3, 12, 8], expected [4, 12, 8]") &&
                              Catch::Contains("'qwen3moe.expert_count' is 4"));
        Tensors missing = tensors_of(f);
        missing.drop("blk.1.ffn_down_exps.weight");
        CHECK_THROWS_WITH(settings_of(write(tmp, metadata(f, experts), missing)),
                          Catch::Contains("tensor 'blk.1.ffn_down_exps.weight'") && Catch::Contains("is missing"));
        CHECK_THROWS_WITH(settings_of(write(tmp, metadata(f, {{"expert_count", kE}, {"expert_used_count", 9}}),
                                            tensors_of(f))),
                          Catch::Contains("'qwen3moe.expert_used_count' is 9 but 'qwen3moe.expert_count' is only 4"));
        CHECK_THROWS_WITH(settings_of(write(tmp, metadata(f), tensors_of(f))),
                          Catch::Contains("missing required metadata key 'qwen3moe.expert_count'"));
    }
}

TEST_CASE("GGUF arch: unknown architecture and missing keys", "[gguf][gguf_arch][errors]") {
    test::TempDir tmp;
    Family f = family("mamba");
    const std::string path = write(tmp, metadata(f), tensors_of(family("llama")));
    CHECK_THROWS_MATCHES(settings_of(path), ConfigError,
                         Catch::Matchers::Predicate<ConfigError>([&](const ConfigError& e) {
                             const std::string m = e.what();
                             return m.find(path) != std::string::npos && m.find("'mamba'") != std::string::npos &&
                                    m.find("gemma2") != std::string::npos && m.find("olmoe") != std::string::npos;
                         }));
    GgufBuilder b;
    b.kv_string("general.architecture", "qwen3");
    b.kv_u32("qwen3.context_length", 64);
    CHECK_THROWS_WITH(settings_of(write(tmp, b, tensors_of(family("qwen3")))),
                      Catch::Contains("missing required metadata key 'qwen3.embedding_length'"));
}

TEST_CASE("GGUF rotary factor tensors: llama rope_freqs, phi3 longrope factors", "[gguf][gguf_arch][rope]") {
    test::TempDir tmp;
    auto config_of = [](const std::string& path) { return gguf_model_config(GgufFile(path)); };
    const Family llama = family("llama");
    SECTION("Llama-3.1's rope_freqs.weight divides each frequency") {
        const auto c = config_of(write(tmp, metadata(llama), tensors_of(llama), {{"rope_freqs.weight", {1.f, 8.f}}}));
        CHECK(c.rope_scaling.kind == RopeScalingKind::freq_factors);
        CHECK(c.rope_scaling.freq_factors == std::vector<double>{1.0, 8.0});
        const auto plain = config_of(write(tmp, metadata(llama), tensors_of(llama)));
        CHECK(plain.rope_scaling.kind == RopeScalingKind::none);
    }
    SECTION("a rope_freqs.weight of the wrong length or with a zero is named") {
        const std::string longer = write(tmp, metadata(llama), tensors_of(llama), {{"rope_freqs.weight", {1, 2, 3}}});
        CHECK_THROWS_WITH(config_of(longer), Catch::Contains(longer) &&
                                                 Catch::Contains("tensor 'rope_freqs.weight' has shape [3], expected [2]"));
        const std::string zero = write(tmp, metadata(llama), tensors_of(llama), {{"rope_freqs.weight", {1, 0}}});
        CHECK_THROWS_WITH(config_of(zero), Catch::Contains("tensor 'rope_freqs.weight' holds 0 at index 1"));
    }
    SECTION("llama rotary scaling: linear is read, yarn is refused by name") {
        GgufBuilder linear = metadata(llama);
        linear.kv_string("llama.rope.scaling.type", "linear").kv_f32("llama.rope.scaling.factor", 4.f);
        const auto c = config_of(write(tmp, linear, tensors_of(llama)));
        CHECK(c.rope_scaling.kind == RopeScalingKind::linear);
        CHECK(c.rope_scaling.factor == 4.0);
        GgufBuilder yarn = metadata(llama);
        yarn.kv_string("llama.rope.scaling.type", "yarn");
        CHECK_THROWS_WITH(config_of(write(tmp, yarn, tensors_of(llama))),
                          Catch::Contains("rotary scaling 'yarn' (llama.rope.scaling.type) is not supported"));
    }
    SECTION("llama with experts is Mixtral, read by the architecture table") {
        Family f = family("llama");
        f.experts = true;
        const std::string path =
            write(tmp, metadata(f, {{"expert_count", kE}, {"expert_used_count", 2}}), tensors_of(f));
        CHECK_FALSE(gguf_is_dense_llama(GgufFile(path)));
        const auto c = config_of(path);
        CHECK(c.model_type == "mixtral");
        CHECK(c.moe.n_experts == kE);
        CHECK(c.moe.top_k == 2);
        CHECK(c.moe.normalize_topk);
        CHECK(c.rotary_style == RotaryStyle::interleaved);
        CHECK(gguf_is_dense_llama(GgufFile(write(tmp, metadata(llama), tensors_of(llama)))));
    }
    SECTION("phi3: longrope factors as tensors, with the original context and attention factor") {
        Family f = family("phi3");
        f.fused = true;
        GgufBuilder b = metadata(f, {{"rope.scaling.original_context_length", 16}});
        b.kv_f32("phi3.rope.scaling.attn_factor", 1.25f);
        const Vectors factors{{"rope_factors_long.weight", {2.f, 5.f}}, {"rope_factors_short.weight", {1.f, 1.5f}}};
        const auto c = config_of(write(tmp, b, tensors_of(f), factors));
        CHECK(c.rope_scaling.kind == RopeScalingKind::longrope);
        CHECK(c.rope_scaling.long_factor == std::vector<double>{2.0, 5.0});
        CHECK(c.rope_scaling.short_factor == std::vector<double>{1.0, 1.5});
        CHECK(c.rope_scaling.original_context == 16);
        CHECK(c.rope_scaling.attention_factor == 1.25);
        const std::string no_context = write(tmp, metadata(f), tensors_of(f), factors);
        CHECK_THROWS_WITH(config_of(no_context),
                          Catch::Contains("without 'phi3.rope.scaling.original_context_length'"));
    }
}
