// Keys and defaults as the transformers configuration classes MixtralConfig, Qwen2MoeConfig,
// Qwen3MoeConfig and OlmoeConfig define them (absent keys read as the class default).
#include "formats/hf/moe_config.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace headscope::hf_cfg {

namespace {

struct MoeDefaults {
    const char* type;
    const char* experts_key;  // the expert-count key as config.json spells it
    int experts, top_k;
    bool normalize;           // Mixtral always renormalises; the others read norm_topk_prob
    bool reads_norm_topk;
    bool own_width;           // moe_intermediate_size (else intermediate_size is the experts' width)
    int moe_width;
    bool shared;              // Qwen2-MoE: shared_expert_intermediate_size
    bool sparse_step;         // decoder_sparse_step / mlp_only_layers
};

const MoeDefaults kMoe[] = {
    {"mixtral", "num_local_experts", 8, 2, true, false, false, 0, false, false},
    {"qwen2_moe", "num_experts", 60, 4, false, true, true, 1408, true, true},
    {"qwen3_moe", "num_experts", 128, 8, false, true, true, 768, false, true},
    {"olmoe", "num_experts", 64, 8, false, true, false, 0, false, false},
};

const MoeDefaults* find(const std::string& type) {
    for (const auto& d : kMoe)
        if (type == d.type) return &d;
    return nullptr;
}

}  // namespace

bool is_moe_type(const std::string& type) { return find(type) != nullptr; }

MoeSettings moe_settings(const ConfigFields& f, const std::string& type, int n_layers, int d_mlp) {
    const MoeDefaults& d = *find(type);
    MoeSettings m;
    // Qwen3-MoE's class maps num_experts <-> num_local_experts; either spelling is read.
    const char* experts_key = d.experts_key;
    if (!f.present(experts_key) && f.present("num_local_experts")) experts_key = "num_local_experts";
    m.n_experts = f.integer(experts_key, d.experts, d.sparse_step ? 0 : 1);
    constexpr int kMaxExperts = 1 << 16;  // today's largest have 256; a bigger count is a broken file
    if (m.n_experts > kMaxExperts) f.fail(experts_key, fmt::format("is {}, more than headscope accepts ({})", m.n_experts, kMaxExperts));
    m.top_k = f.integer("num_experts_per_tok", d.top_k);
    if (m.n_experts > 0 && m.top_k > m.n_experts)
        f.fail("num_experts_per_tok", fmt::format("is {}, more than the {} experts ({})", m.top_k, m.n_experts, experts_key));
    m.normalize_topk = d.reads_norm_topk ? f.boolean("norm_topk_prob", d.normalize) : d.normalize;
    m.d_expert = d.own_width ? f.integer("moe_intermediate_size", d.moe_width) : d_mlp;
    if (d.shared) m.d_shared = f.integer("shared_expert_intermediate_size", 5632);
    if (d.sparse_step && m.n_experts > 0) {
        // A layer is sparse unless listed in mlp_only_layers or off the decoder_sparse_step grid.
        const int step = f.integer("decoder_sparse_step", 1);
        std::vector<int> only;
        if (const nlohmann::json* list = f.get("mlp_only_layers")) {
            if (!list->is_array()) f.fail("mlp_only_layers", fmt::format("is {}, expected a list of layer indices", describe_json(*list)));
            for (const auto& v : *list) {
                if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() >= n_layers)
                    f.fail("mlp_only_layers", fmt::format("holds {}, expected layer indices in 0..{}", describe_json(v), n_layers - 1));
                only.push_back(v.get<int>());
            }
        }
        for (int l = 0; l < n_layers; ++l)
            if (std::find(only.begin(), only.end(), l) != only.end() || (l + 1) % step != 0) m.dense_layers.push_back(l);
    }
    if (m.n_experts == 0) m = MoeSettings{};  // num_experts 0: a dense model
    return m;
}

}  // namespace headscope::hf_cfg
