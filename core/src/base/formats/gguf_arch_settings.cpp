// GgufArchSettings from a GGUF file's metadata (llama.cpp's LLM_KV_* keys under the
// general.architecture prefix) and tensor directory, with each family's llama.cpp conventions.
#include <climits>
#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "formats/tensor_lookup.hpp"
#include "headscope/error.hpp"
#include "headscope/formats/gguf_arch.hpp"
#include "headscope/formats/gguf_file.hpp"

namespace headscope {

namespace {
struct ArchRow {
    const char* arch;
    const char* family;      // HF model_type
    const char* moe_family;  // model_type when expert_count > 0 (nullptr: MoE not allowed)
    RotaryStyle rotary;
    GgufNormPlacement placement;
    bool gemma;  // norms stored +1, embeddings scaled, GELU, softcaps/27B scale rules
    bool qkv_bias;
    GgufQkNorm qk_norm;
    bool phi3_fused;
    int swa_pattern;  // 0: a sliding window applies to every layer; n: layer l slides iff l % n < n - 1
    bool dense_allowed;
    bool normalize_topk_default;
    int layers_27b;  // gemma2/3: n_layers of the 27B model, whose q scale is 1/sqrt(d_model / n_heads)
};

// clang-format off
constexpr ArchRow kArchs[] = {
    // arch       family         moe family   rotary                    placement                           gemma  bias   qk norm                 phi3   swa  dense  norm_topk 27B
    {"llama",    "llama",       "mixtral",   RotaryStyle::interleaved, GgufNormPlacement::pre,          false, false, GgufQkNorm::none,       false, 0, true,  true,  0},
    {"gemma",    "gemma",       nullptr,     RotaryStyle::half,        GgufNormPlacement::pre,          true,  false, GgufQkNorm::none,       false, 0, true,  false, 0},
    {"gemma2",   "gemma2",      nullptr,     RotaryStyle::half,        GgufNormPlacement::pre_and_post, true,  false, GgufQkNorm::none,       false, 2, true,  false, 46},
    {"gemma3",   "gemma3_text", nullptr,     RotaryStyle::half,        GgufNormPlacement::pre_and_post, true,  false, GgufQkNorm::per_head,   false, 6, true,  false, 62},
    {"qwen2",    "qwen2",       nullptr,     RotaryStyle::half,        GgufNormPlacement::pre,          false, true,  GgufQkNorm::none,       false, 0, true,  false, 0},
    {"qwen3",    "qwen3",       nullptr,     RotaryStyle::half,        GgufNormPlacement::pre,          false, false, GgufQkNorm::per_head,   false, 0, true,  false, 0},
    {"phi3",     "phi3",        nullptr,     RotaryStyle::half,        GgufNormPlacement::pre,          false, false, GgufQkNorm::none,       true,  0, true,  false, 0},
    {"olmo2",    "olmo2",       nullptr,     RotaryStyle::half,        GgufNormPlacement::post,         false, false, GgufQkNorm::full_width, false, 0, true,  false, 0},
    {"qwen2moe", "qwen2_moe",   "qwen2_moe", RotaryStyle::half,        GgufNormPlacement::pre,          false, true,  GgufQkNorm::none,       false, 0, false, false, 0},
    {"qwen3moe", "qwen3_moe",   "qwen3_moe", RotaryStyle::half,        GgufNormPlacement::pre,          false, false, GgufQkNorm::per_head,   false, 0, false, true,  0},
    {"olmoe",    "olmoe",       "olmoe",     RotaryStyle::half,        GgufNormPlacement::pre,          false, false, GgufQkNorm::full_width, false, 0, false, false, 0},
};
// clang-format on

constexpr double kGemmaLocalRopeTheta = 10000.0;               // llama.cpp's rope_freq_base_train_swa
constexpr double kGemma2AttnSoftcap = 50.0, kGemma2FinalSoftcap = 30.0;  // llama.cpp's defaults

class Meta {
public:
    Meta(const GgufFile& file, std::string arch) : file_(file), arch_(std::move(arch)) {}
    [[noreturn]] void fail(const std::string& problem) const { throw FormatError(file_.path(), problem); }
    std::string key(const char* suffix) const { return arch_ + "." + suffix; }

    std::optional<int> opt_int(const char* suffix, bool allow_zero = false) const {
        const std::string k = key(suffix);
        const auto& meta = file_.metadata();
        const auto it = meta.find(k);
        if (it == meta.end()) return std::nullopt;
        if (std::holds_alternative<GgufValue::Array>(it->second.value))
            fail(fmt::format("metadata key '{}' is an array (per-layer values are not supported), expected one integer",
                             k));
        const auto v = file_.get_int(k);
        if (!v || *v < (allow_zero ? 0 : 1) || *v > INT_MAX)
            fail(fmt::format("metadata key '{}' is {}, expected a {} integer below 2^31", k,
                             v ? std::to_string(*v) : std::string("not an integer"), allow_zero ? "non-negative" : "positive"));
        return static_cast<int>(*v);
    }
    int req_int(const char* suffix) const {
        if (auto v = opt_int(suffix)) return *v;
        fail(fmt::format("missing required metadata key '{}'", key(suffix)));
    }
    std::optional<double> opt_positive(const char* suffix) const {
        const auto v = file_.get_float(key(suffix));
        if (v && !(*v > 0 && std::isfinite(*v)))
            fail(fmt::format("metadata key '{}' is {}, expected a positive number", key(suffix), *v));
        return v;
    }
    std::optional<bool> opt_bool(const char* suffix) const {
        const auto& meta = file_.metadata();
        const auto it = meta.find(key(suffix));
        if (it == meta.end()) return std::nullopt;
        const bool* b = std::get_if<bool>(&it->second.value);
        if (!b) fail(fmt::format("metadata key '{}' is not a bool", key(suffix)));
        return *b;
    }
    int token_id(const char* key) const {
        const auto v = file_.get_int(key);
        if (!v) return -1;
        if (*v < 0 || *v > INT_MAX) fail(fmt::format("metadata key '{}' is {}, expected a token id", key, *v));
        return static_cast<int>(*v);
    }

private:
    const GgufFile& file_;
    std::string arch_;
};

const ArchRow* find_arch(const std::string& arch) {
    for (const auto& row : kArchs)
        if (arch == row.arch) return &row;
    return nullptr;
}

void read_experts(const GgufFile& file, const Meta& m, const ArchRow& row, GgufArchSettings& s) {
    const auto n_experts = m.opt_int("expert_count", /*allow_zero=*/true);
    if (!n_experts || *n_experts == 0) {
        if (!row.dense_allowed)
            m.fail(fmt::format("missing required metadata key '{}' (architecture {} is a mixture of experts)",
                               m.key("expert_count"), row.arch));
        return;
    }
    if (!row.moe_family)
        m.fail(fmt::format("'{}' is {}, but architecture {} has no experts in llama.cpp", m.key("expert_count"),
                           *n_experts, row.arch));
    s.family = row.moe_family;
    s.n_experts = *n_experts;
    s.n_experts_used = m.req_int("expert_used_count");
    if (s.n_experts_used > s.n_experts)
        m.fail(fmt::format("'{}' is {} but '{}' is only {}", m.key("expert_used_count"), s.n_experts_used,
                           m.key("expert_count"), s.n_experts));
    if (auto gating = m.opt_int("expert_gating_func"); gating && *gating != 1)
        m.fail(fmt::format("'{}' is {}; only softmax gating (1) is supported", m.key("expert_gating_func"), *gating));
    s.d_expert = m.opt_int("expert_feed_forward_length").value_or(s.d_mlp);
    if (s.d_expert == 0)
        m.fail(fmt::format("missing required metadata key '{}' (or '{}')", m.key("expert_feed_forward_length"),
                           m.key("feed_forward_length")));
    if (s.d_mlp == 0) s.d_mlp = s.d_expert;
    s.normalize_topk = m.opt_bool("expert_weights_norm").value_or(row.normalize_topk_default);
    if (std::string(row.arch) == "qwen2moe") {
        if (auto shared = m.opt_int("expert_shared_feed_forward_length")) s.d_shared_expert = *shared;
        else if (const TensorInfo* t = file.find("blk.0.ffn_gate_shexp.weight"); t && t->shape.size() == 2)
            s.d_shared_expert = static_cast<int>(t->shape[0]);
    }
    s.legacy_expert_tensors = !file.find("blk.0.ffn_gate_exps.weight") && file.find("blk.0.ffn_gate.0.weight");
}

void read_rope(const GgufFile& file, const Meta& m, const ArchRow& row, GgufArchSettings& s) {
    s.rotary_style = row.rotary;
    s.rope_theta = m.opt_positive("rope.freq_base").value_or(10000.0);
    s.rotary_dim = m.opt_int("rope.dimension_count").value_or(s.d_head);
    if (s.rotary_dim > s.d_head || s.rotary_dim % 2 != 0)
        m.fail(fmt::format("'{}' is {}, expected an even number up to the head size {}", m.key("rope.dimension_count"),
                           s.rotary_dim, s.d_head));
    if (auto type = file.get_string(m.key("rope.scaling.type"))) s.rope_scaling.type = *type;
    if (auto factor = m.opt_positive("rope.scaling.factor")) s.rope_scaling.factor = *factor;
    if (auto linear = m.opt_positive("rope.scale_linear")) {  // the key before rope.scaling.*
        s.rope_scaling.type = "linear";
        s.rope_scaling.factor = *linear;
    }
    s.rope_scaling.original_context = m.opt_int("rope.scaling.original_context_length").value_or(0);
    s.rope_scaling.attn_factor = m.opt_positive("rope.scaling.attn_factor").value_or(1.0);
    const std::string& type = s.rope_scaling.type;
    if (type != "none" && type != "linear" && type != "yarn" && type != "longrope")
        m.fail(fmt::format("'{}' is '{}', expected none, linear, yarn or longrope", m.key("rope.scaling.type"), type));
    if (type == "none") s.rope_scaling.factor = 1.0;
    // Phi-3 128k / Phi-3.5: llama.cpp's converter writes the longrope factors as tensors and no type.
    if (type == "none" && file.find("rope_factors_long.weight") && file.find("rope_factors_short.weight"))
        s.rope_scaling.type = "longrope";
    s.rope_freqs_tensor = file.find("rope_freqs.weight") != nullptr;
    if (row.swa_pattern == 6) s.rope_theta_local = kGemmaLocalRopeTheta;  // gemma3
}

void read_attention(const Meta& m, const ArchRow& row, GgufArchSettings& s) {
    s.attention_scale = 1.0 / std::sqrt(static_cast<double>(s.d_head));
    if (row.layers_27b && s.n_layers == row.layers_27b)
        s.attention_scale = 1.0 / std::sqrt(static_cast<double>(s.d_model / s.n_heads));
    s.attn_logit_softcap = m.opt_positive("attn_logit_softcapping");
    s.final_logit_softcap = m.opt_positive("final_logit_softcapping");
    if (row.swa_pattern == 2) {  // gemma2: llama.cpp's defaults when the keys are absent
        if (!s.attn_logit_softcap) s.attn_logit_softcap = kGemma2AttnSoftcap;
        if (!s.final_logit_softcap) s.final_logit_softcap = kGemma2FinalSoftcap;
    }
    s.sliding_window = m.opt_int("attention.sliding_window", /*allow_zero=*/true).value_or(0);
    s.sliding_layers.assign(static_cast<size_t>(s.n_layers), false);
    if (s.sliding_window > 0)
        for (int l = 0; l < s.n_layers; ++l)
            s.sliding_layers[static_cast<size_t>(l)] = row.swa_pattern == 0 || l % row.swa_pattern < row.swa_pattern - 1;
}

void check_tensors(const GgufFile& file, const GgufArchSettings& s) {
    for (const GgufTensorPlan& want : gguf_tensor_plan(s)) {
        const TensorInfo* t = file.find(want.gguf);
        if (!t) {
            if (!want.required) continue;
            throw FormatError(file.path(), fmt::format("tensor '{}' ({}) is missing; architecture {} needs it{}", want.gguf,
                                                       want.canonical, s.architecture,
                                                       s.is_moe() ? fmt::format(" ({} experts)", s.n_experts) : ""));
        }
        if (t->shape == want.shape) continue;
        std::string hint;
        if (want.canonical.find("mlp.experts.W_") != std::string::npos && !t->shape.empty() &&
            t->shape.size() == want.shape.size() && t->shape[0] != want.shape[0])
            hint = fmt::format(": its first dimension is the expert count, and '{}.expert_count' is {}", s.architecture,
                               s.n_experts);
        else if (want.canonical.find("mlp.W_router") != std::string::npos && !t->shape.empty() &&
                 t->shape[0] != want.shape[0])
            hint = fmt::format(": one router row per expert, and '{}.expert_count' is {}", s.architecture, s.n_experts);
        throw FormatError(file.path(), fmt::format("tensor '{}' ({}) has shape {}, expected {}{}", want.gguf, want.canonical,
                                                   formats::shape_string(t->shape), formats::shape_string(want.shape),
                                                   hint));
    }
}
}  // namespace

std::string gguf_supported_architectures() {
    std::vector<std::string> names;
    for (const auto& row : kArchs) names.emplace_back(row.arch);
    return fmt::format("{}", fmt::join(names, ", "));
}

GgufArchSettings gguf_arch_settings(const GgufFile& file) {
    const auto arch = file.get_string("general.architecture");
    if (!arch) throw FormatError(file.path(), "missing required metadata key 'general.architecture'");
    const ArchRow* row = find_arch(*arch);
    if (!row)
        throw ConfigError(fmt::format("{}: architecture '{}' (general.architecture) is not supported; supported: {}",
                                      file.path(), *arch, gguf_supported_architectures()));
    const Meta m(file, *arch);
    GgufArchSettings s;
    s.architecture = *arch;
    s.family = row->family;
    s.name = file.get_string("general.name").value_or("");
    s.n_ctx = m.req_int("context_length");
    s.d_model = m.req_int("embedding_length");
    s.n_layers = m.req_int("block_count");
    s.n_heads = m.req_int("attention.head_count");
    s.n_kv_heads = m.opt_int("attention.head_count_kv").value_or(s.n_heads);
    if (s.n_heads % s.n_kv_heads != 0)
        m.fail(fmt::format("'{}' ({}) is not a multiple of '{}' ({})", m.key("attention.head_count"), s.n_heads,
                           m.key("attention.head_count_kv"), s.n_kv_heads));
    if (auto key_length = m.opt_int("attention.key_length")) {
        const auto value_length = m.opt_int("attention.value_length");
        if (value_length && *value_length != *key_length)
            m.fail(fmt::format("'{}' ({}) differs from '{}' ({}); headscope needs one head size",
                               m.key("attention.key_length"), *key_length, m.key("attention.value_length"), *value_length));
        s.d_head = *key_length;
    } else {
        if (s.d_model % s.n_heads != 0)
            m.fail(fmt::format("'{}' ({}) is not divisible by '{}' ({})", m.key("embedding_length"), s.d_model,
                               m.key("attention.head_count"), s.n_heads));
        s.d_head = s.d_model / s.n_heads;
    }
    s.d_mlp = m.opt_int("feed_forward_length").value_or(0);
    s.norm = NormKind::rms;
    const auto eps = m.opt_positive("attention.layer_norm_rms_epsilon");
    if (!eps) m.fail(fmt::format("missing required metadata key '{}'", m.key("attention.layer_norm_rms_epsilon")));
    s.norm_eps = *eps;
    s.norm_placement = row->placement;
    s.norm_plus_one_stored = s.scale_embeddings = row->gemma;
    s.activation = row->gemma ? Activation::gelu : Activation::silu;
    s.qkv_bias = row->qkv_bias;
    s.qk_norm = row->qk_norm;
    s.fused_qkv = s.fused_gate_up = row->phi3_fused;

    read_experts(file, m, *row, s);
    if (!s.is_moe() && s.d_mlp == 0)
        m.fail(fmt::format("missing required metadata key '{}'", m.key("feed_forward_length")));
    read_rope(file, m, *row, s);
    read_attention(m, *row, s);

    const TensorInfo* emb = file.find("token_embd.weight");
    if (!emb) m.fail("tensor 'token_embd.weight' (embed.W_E) is missing");
    if (emb->shape.size() != 2 || emb->shape[1] != s.d_model || emb->shape[0] > INT_MAX)
        m.fail(fmt::format("tensor 'token_embd.weight' has shape {}, expected [n_vocab, {}] ('{}' is {})",
                           formats::shape_string(emb->shape), s.d_model, m.key("embedding_length"), s.d_model));
    s.d_vocab = static_cast<int>(emb->shape[0]);
    s.tied_embeddings = file.find("output.weight") == nullptr;
    s.bos_token_id = m.token_id("tokenizer.ggml.bos_token_id");
    s.eos_token_id = m.token_id("tokenizer.ggml.eos_token_id");
    check_tensors(file, s);
    return s;
}

}  // namespace headscope
