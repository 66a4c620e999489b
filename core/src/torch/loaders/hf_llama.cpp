// Hugging Face llama / mistral / qwen2 tensor names (LlamaForCausalLM layout).
#include "loaders/hf_families.hpp"

#include "loaders/llama_family.hpp"

namespace headscope {

namespace {
std::string layer(int l, const char* rest) { return "model.layers." + std::to_string(l) + "." + rest; }
}  // namespace

const LlamaNameTable& hf_llama_names() {
    static const LlamaNameTable table{
        [] { return std::string("model.embed_tokens.weight"); },
        [] { return std::string("model.norm.weight"); },
        [] { return std::string("lm_head.weight"); },
        [](int l) { return layer(l, "input_layernorm.weight"); },
        [](int l) { return layer(l, "self_attn.q_proj.weight"); },
        [](int l) { return layer(l, "self_attn.k_proj.weight"); },
        [](int l) { return layer(l, "self_attn.v_proj.weight"); },
        [](int l) { return layer(l, "self_attn.o_proj.weight"); },
        [](int l) { return layer(l, "post_attention_layernorm.weight"); },
        [](int l) { return layer(l, "mlp.gate_proj.weight"); },
        [](int l) { return layer(l, "mlp.up_proj.weight"); },
        [](int l) { return layer(l, "mlp.down_proj.weight"); },
        [](int l) { return layer(l, "self_attn.q_proj.bias"); },
        [](int l) { return layer(l, "self_attn.k_proj.bias"); },
        [](int l) { return layer(l, "self_attn.v_proj.bias"); },
    };
    return table;
}

ModelWeights load_hf_llama_weights(const std::shared_ptr<const TensorSource>& source, const ModelConfig& config) {
    return load_llama_weights(source, config, hf_llama_names());
}

}  // namespace headscope
