// expert_routing: for mixture-of-experts models, how often each expert of each layer is chosen,
// how much routing weight and MLP output it carries, how confident the router is (entropy), and
// which tokens are routed to each expert most strongly. Reads the MoE MLP's hook points; the
// arithmetic lives in routing_statistics.hpp (tested alone).
#include <torch/torch.h>

#include <fmt/format.h>

#include "expert_routing/routing_statistics.hpp"
#include "headscope/sdk/analysis.hpp"

namespace headscope {

namespace {
using namespace expert_routing;

// The MoE MLP's hook points (see the MoE block component): router logits [B,T,E], the top-k
// weights [B,T,k] with their expert indices [B,T,k], and each chosen expert's output
// [B,T,k,d_model] (computed only when hooked).
std::string router_logits_hook(int l) { return fmt::format("blocks.{}.mlp.hook_router_logits", l); }
std::string expert_weights_hook(int l) { return fmt::format("blocks.{}.mlp.hook_expert_weights", l); }
std::string expert_indices_hook(int l) { return fmt::format("blocks.{}.mlp.hook_expert_indices", l); }
std::string expert_out_hook(int l) { return fmt::format("blocks.{}.mlp.hook_expert_out", l); }

template <typename T>
std::vector<T> flat(const torch::Tensor& t, torch::ScalarType type) {
    torch::Tensor c = t.to(torch::kCPU, type).contiguous();
    return std::vector<T>(c.data_ptr<T>(), c.data_ptr<T>() + c.numel());
}

class ExpertRouting : public Analysis {
public:
    std::string id() const override { return "expert_routing"; }
    std::string title() const override { return "Expert routing"; }
    std::string version() const override { return "1.0"; }
    std::string description() const override {
        return "Mixture-of-experts models: per layer, how often each expert is chosen, its share of the routing weight "
               "and of the MLP output, the router's entropy, and the tokens routed to each expert most strongly.";
    }
    std::vector<ParamSpec> parameters() const override {
        return {
            ParamSpec::integer("top_tokens", 5, "tokens listed per expert (highest routing weight first)", 0, 1000),
            ParamSpec::boolean("output_share", true,
                               "also compute each expert's share of the MLP output (runs hook_expert_out)"),
        };
    }
    std::vector<std::string> hooks(const ModelConfig& config, const ParamValues& params) const override {
        if (config.moe.n_experts == 0) return {};  // run() says why
        std::vector<std::string> h{"blocks.*.mlp.hook_router_logits", "blocks.*.mlp.hook_expert_weights",
                                   "blocks.*.mlp.hook_expert_indices"};
        if (params.get_bool("output_share")) h.push_back("blocks.*.mlp.hook_expert_out");
        return h;
    }
    Result run(AnalysisContext& ctx) override;
};

Result ExpertRouting::run(AnalysisContext& ctx) {
    const ModelConfig& config = ctx.config();
    // The sparse layers (Qwen-MoE may keep some MLPs dense: mlp_only_layers, decoder_sparse_step).
    std::vector<int> moe_layers;
    for (int l = 0; l < config.n_layers; ++l)
        if (config.is_moe_layer(l)) moe_layers.push_back(l);
    if (moe_layers.empty())
        throw UsageError(fmt::format("expert_routing needs a mixture-of-experts model (mixtral, qwen2_moe, qwen3_moe, "
                                     "olmoe); this {} model has no expert layers",
                                     config.model_type));
    const int L = static_cast<int>(moe_layers.size());
    const int max_tokens = static_cast<int>(ctx.params.get_int("top_tokens"));
    const bool want_output = ctx.params.get_bool("output_share");
    const size_t P = ctx.prompts.size();
    if (P == 0) throw UsageError("expert_routing needs at least one prompt");

    // Routing of every sparse layer over all prompts, positions concatenated prompt after prompt.
    std::vector<LayerRouting> layers(static_cast<size_t>(L));
    std::vector<std::pair<size_t, int64_t>> where;  // row -> (prompt, position)
    for (size_t i = 0; i < P; ++i) {
        ctx.step(static_cast<double>(i) / static_cast<double>(P), fmt::format("prompt {}/{}", i + 1, P));
        const CachedRun& run = ctx.clean_run(i);
        for (int j = 0; j < L; ++j) {
            const int l = moe_layers[static_cast<size_t>(j)];
            if (!run.cache.contains(router_logits_hook(l)))
                throw UsageError(fmt::format("expert_routing: layer {} has no '{}' in the run", l, router_logits_hook(l)));
            const torch::Tensor logits = run.cache.at(router_logits_hook(l))[0];    // [T, E]
            const torch::Tensor weights = run.cache.at(expert_weights_hook(l))[0];  // [T, k]
            const torch::Tensor indices = run.cache.at(expert_indices_hook(l))[0];  // [T, k]
            LayerRouting& r = layers[static_cast<size_t>(j)];
            r.n_experts = static_cast<int>(logits.size(-1));
            r.top_k = static_cast<int>(weights.size(-1));
            auto append = [](auto& dst, auto src) { dst.insert(dst.end(), src.begin(), src.end()); };
            append(r.router_logits, flat<float>(logits, torch::kFloat32));
            append(r.weights, flat<float>(weights, torch::kFloat32));
            append(r.indices, flat<int64_t>(indices, torch::kInt64));
            if (want_output)
                append(r.expert_out_norms,
                       flat<float>(run.cache.at(expert_out_hook(l))[0].to(torch::kFloat32).norm(2, -1), torch::kFloat32));
            if (j == 0)
                for (int64_t t = 0; t < logits.size(0); ++t) where.emplace_back(i, t);
        }
    }

    std::vector<LayerStatistics> stats;
    for (const LayerRouting& r : layers) stats.push_back(routing_statistics(r, max_tokens));
    const int E = layers[0].n_experts;

    Result result;
    std::vector<std::string> layer_labels, expert_labels;
    for (int l : moe_layers) layer_labels.push_back(fmt::format("L{}", l));
    for (int e = 0; e < E; ++e) expert_labels.push_back(fmt::format("E{}", e));
    auto per_expert = [&](std::string key, std::string title, std::string description,
                          std::vector<double> LayerStatistics::*field) {
        Matrix m;
        m.key = std::move(key);
        m.title = std::move(title);
        m.description = std::move(description);
        m.rows = L;
        m.cols = E;
        m.row_labels = layer_labels;
        m.col_labels = expert_labels;
        m.row_axis = "layer";
        m.col_axis = "expert";
        for (const auto& s : stats) {
            const auto& v = s.*field;
            for (int e = 0; e < E; ++e) m.values.push_back(static_cast<size_t>(e) < v.size() ? v[static_cast<size_t>(e)] : 0.0);
        }
        result.items.push_back(std::move(m));
    };
    per_expert("expert_frequency", "Expert choice frequency",
               "Share of the (token, top-k slot) choices of each layer that picked the expert; a balanced router gives "
               "1/E each.",
               &LayerStatistics::frequency);
    per_expert("expert_weight_share", "Routing weight share",
               "Share of the layer's total routing weight (after top-k normalisation) given to the expert.",
               &LayerStatistics::weight_share);
    if (want_output)
        per_expert("expert_output_share", "MLP output share",
                   "Share of sum over tokens and slots of weight x |expert output| that the expert carries: how much of "
                   "the MLP's output size it is responsible for.",
                   &LayerStatistics::output_share);

    Spectrum entropy;
    entropy.key = "routing_entropy";
    entropy.title = "Routing entropy per layer";
    entropy.description = fmt::format("Mean entropy (nats) of the router's softmax over the {} experts per token, and the "
                                      "entropy of the layer's expert-choice frequencies (ln {} = {:.2f} when balanced).",
                                      E, E, std::log(static_cast<double>(E)));
    entropy.series_names = {"per-token router entropy", "load entropy"};
    entropy.series.resize(2);
    for (const auto& s : stats) {
        entropy.series[0].push_back(s.mean_entropy);
        entropy.series[1].push_back(s.load_entropy);
    }
    entropy.x_axis = "layer";
    entropy.y_axis = "entropy (nats)";
    result.items.push_back(std::move(entropy));

    Table top;
    top.key = "top_tokens";
    top.title = "Tokens most routed to each expert";
    top.description = "Per layer and expert, the prompt positions with the highest routing weight to it.";
    top.columns = {"layer", "expert", "rank", "prompt", "position", "token", "weight"};
    for (int l = 0; l < L; ++l)
        for (int e = 0; e < E; ++e) {
            const auto& list = stats[static_cast<size_t>(l)].top_tokens[static_cast<size_t>(e)];
            for (size_t j = 0; j < list.size(); ++j) {
                const auto [prompt, pos] = where[static_cast<size_t>(list[j].position)];
                const auto& texts = ctx.prompts[prompt].token_texts;
                top.rows.push_back({int64_t{moe_layers[static_cast<size_t>(l)]}, int64_t{e}, static_cast<int64_t>(j), static_cast<int64_t>(prompt), pos,
                                    static_cast<size_t>(pos) < texts.size() ? texts[static_cast<size_t>(pos)] : std::string(),
                                    static_cast<double>(list[j].weight)});
            }
        }
    result.items.push_back(std::move(top));

    for (int l = 0; l < L; ++l) {
        const auto& f = stats[static_cast<size_t>(l)].frequency;
        const auto busiest = std::max_element(f.begin(), f.end()) - f.begin();
        result.summary.push_back(fmt::format("L{}: busiest expert E{} ({:.0f}% of choices), router entropy {:.2f} nats",
                                             moe_layers[static_cast<size_t>(l)],
                                             busiest, 100 * f[static_cast<size_t>(busiest)],
                                             stats[static_cast<size_t>(l)].mean_entropy));
    }
    ctx.step(1.0, "done");
    return result;
}
}  // namespace

void register_expert_routing(AnalysisRegistry& registry) {
    registry.add([] { return std::make_unique<ExpertRouting>(); });
}

}  // namespace headscope
