#include "headscope/run_store.hpp"

#include <torch/torch.h>


#include <nlohmann/json.hpp>

#include "headscope/error.hpp"
#include "headscope/formatting.hpp"

namespace headscope {

namespace {
std::vector<int64_t> shape_of(const torch::Tensor& t) { return std::vector<int64_t>(t.sizes().begin(), t.sizes().end()); }

void write_float(ActivationStoreWriter& w, const std::string& name, const torch::Tensor& t) {
    torch::Tensor c = t.detach().to(torch::kCPU, torch::kFloat32).contiguous();
    w.write_f32(name, shape_of(c), c.data_ptr<float>());
}
}  // namespace

void save_run(const std::string& path, const HookedTransformer& model, const at::Tensor& tokens_in, const CachedRun& run,
              const RunProvenance& prov, const std::vector<std::pair<std::string, at::Tensor>>& extra) {
    const ModelConfig& c = model.config();
    torch::Tensor tokens = (tokens_in.dim() == 1 ? tokens_in.unsqueeze(0) : tokens_in).to(torch::kCPU, torch::kLong).contiguous();
    ActivationStoreWriter w(path);
    w.write_i64("/tokens", shape_of(tokens), tokens.data_ptr<int64_t>());
    write_float(w, "/logits", run.logits);
    for (const auto& name : run.cache.names()) {
        const std::string dataset = "/activations/" + name;
        write_float(w, dataset, run.cache.at(name));
    }
    for (const auto& [name, tensor] : extra) write_float(w, name, tensor);
    if (!prov.interventions.empty()) w.set_attribute("/", "interventions", prov.interventions);
    w.set_attribute("/", "headscope_version", std::string(HEADSCOPE_VERSION));
    w.set_attribute("/", "created_utc", utc_timestamp());
    w.set_attribute("/", "model_path", prov.model_path);
    w.set_attribute("/", "model_format", prov.model_format);
    w.set_attribute("/", "prompt", prov.prompt);
    w.set_attribute("/", "architecture", std::string(to_string(c.architecture)));
    w.set_attribute("/", "model_type", c.model_type);
    w.set_attribute("/", "n_layers", static_cast<int64_t>(c.n_layers));
    w.set_attribute("/", "n_heads", static_cast<int64_t>(c.n_heads));
    w.set_attribute("/", "n_kv_heads", static_cast<int64_t>(c.n_kv_heads));
    w.set_attribute("/", "d_model", static_cast<int64_t>(c.d_model));
    w.set_attribute("/", "d_head", static_cast<int64_t>(c.d_head));
    w.set_attribute("/", "d_vocab", static_cast<int64_t>(c.d_vocab));
    w.set_attribute("/tokens", "token_texts", nlohmann::json(prov.token_texts).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    w.commit();
}

at::Tensor read_tensor(const ActivationStoreReader& reader, const std::string& dataset) {
    DatasetInfo info = reader.info(dataset);
    if (info.type == ElementType::i64) {
        std::vector<int64_t> data = reader.read_i64(dataset);
        return torch::tensor(data, torch::kLong).view(info.shape);
    }
    std::vector<float> data = reader.read_f32(dataset);
    return torch::from_blob(data.data(), {static_cast<int64_t>(data.size())}, torch::kFloat32).clone().view(info.shape);
}

}  // namespace headscope
