// Talking-Heads channels: qk_ov_svd's stored singular vectors and composition's per-component
// split against dense numpy SVDs (tests/reference/analysis_reference_papers.py vectors and
// components), and the channel edit: scale 1 changes nothing, other scales match the numpy
// projection of the head's output, and head_intervention mode=channel reports it.
#include <torch/torch.h>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>

#include "headscope/channel_edit.hpp"
#include "headscope/model_loader.hpp"
#include "support/analysis_support.hpp"
#include "support/reference.hpp"
#include "support/test_support.hpp"

using namespace headscope;
using namespace headscope::test;

namespace {

std::string tiny_world() { return source_dir() + "/data/models/tiny-world"; }

torch::Tensor tokens_of(const TokenizedPrompt& p) {
    return torch::tensor(std::vector<int64_t>(p.ids.begin(), p.ids.end())).unsqueeze(0);
}

double cell_number(const Cell& c) {
    return std::holds_alternative<double>(c) ? std::get<double>(c) : static_cast<double>(std::get<int64_t>(c));
}

}  // namespace

TEST_CASE("qk_ov_svd stores each head's top singular vectors (dense numpy SVD)", "[qk_ov_svd][talking_heads][reference]") {
    LoadedModel m = load_model(tiny_world());
    const ModelConfig& c = m.model->config();
    const int r = 3;
    const Result res = run_builtin("qk_ov_svd", m, {}, {{"singular_vectors", std::to_string(r)}, {"per_head_spectra", "false"}});
    const nlohmann::json ref = nlohmann::json::parse(
        run_reference("analysis_reference_papers.py", {"vectors", tiny_world(), std::to_string(r), "--fold"}));
    for (const char* key : {"qk_U", "qk_V", "ov_U", "ov_V"}) {
        const Matrix& v = matrix(res, key);
        REQUIRE(v.rows == c.n_layers * c.n_heads * r);
        REQUIRE(v.cols == c.d_model);
        CHECK(v.row_labels[static_cast<size_t>(r * (c.n_heads + 2) + 1)] == "L1H2 2");
        const std::string side(key, 2);
        for (int head = 0; head < c.n_layers * c.n_heads; ++head)
            for (int i = 0; i < r; ++i) {
                const auto& S = ref[side + "_S"][head];
                const double gap = std::min(S[i].get<double>() - S[i + 1].get<double>(),
                                            i ? S[i - 1].get<double>() - S[i].get<double>() : 1e300);
                if (gap < 1e-3 * S[0].get<double>()) continue;  // a degenerate pair has no unique vectors
                double dot = 0, norm = 0;
                for (int d = 0; d < c.d_model; ++d) {
                    const double x = v.values[static_cast<size_t>((head * r + i) * c.d_model + d)];
                    dot += x * ref[key][head][i][d].get<double>();
                    norm += x * x;
                }
                INFO(key << " head " << head << " vector " << i);
                CHECK(norm == Approx(1.0).margin(1e-6));
                CHECK(std::abs(dot) == Approx(1.0).margin(1e-4));
            }
    }
    // U and V rows form pairs: u_iᵀ·OV·v_i = s_i with the signs as stored.
    const Matrix& U = matrix(res, "ov_U");
    const Matrix& V = matrix(res, "ov_V");
    const Matrix& sv = matrix(res, "ov_singular_values");
    const LayerWeights& L0 = m.model->weights().layers[0];
    const torch::Tensor ov = torch::matmul((L0.W_V[0] * L0.ln1_w.unsqueeze(1)).to(torch::kDouble), L0.W_O[0].to(torch::kDouble));
    const torch::Tensor u = torch::tensor(std::vector<double>(U.values.begin(), U.values.begin() + c.d_model), torch::kDouble);
    const torch::Tensor vv = torch::tensor(std::vector<double>(V.values.begin(), V.values.begin() + c.d_model), torch::kDouble);
    CHECK(torch::dot(u, torch::mv(ov, vv)).item<double>() == Approx(sv.values[0]).epsilon(1e-5));
}

TEST_CASE("composition splits each edge over the writer's OV components (dense numpy)", "[composition][talking_heads][reference]") {
    TempDir tmp;
    LoadedModel m = load_model(tiny_world());
    const ModelConfig& c = m.model->config();
    const Result r = run_builtin("composition", m, {}, {{"components", std::to_string(c.d_head)}, {"top_edges", "12"}});
    const Graph& g = item<Graph>(r, "composition_graph");
    REQUIRE(!g.edges.empty());
    const Table& t = table(r, "component_composition");
    const Matrix& shares = matrix(r, "component_share");
    REQUIRE(t.rows.size() == g.edges.size() * static_cast<size_t>(c.d_head));
    REQUIRE(shares.rows == static_cast<int>(g.edges.size()));
    nlohmann::json edges = nlohmann::json::array();
    for (const auto& e : g.edges) edges.push_back({e.from, e.to, e.kind});
    write_file(tmp.file("edges.json"), edges.dump());
    const nlohmann::json ref = nlohmann::json::parse(
        run_reference("analysis_reference_papers.py", {"components", tiny_world(), tmp.file("edges.json"), "--fold"}));
    for (size_t e = 0; e < g.edges.size(); ++e) {
        double sum_sq = 0, share_sum = 0;
        for (int i = 0; i < c.d_head; ++i) {
            const auto& row = t.rows[e * static_cast<size_t>(c.d_head) + static_cast<size_t>(i)];
            const double ci = cell_number(row[6]);
            INFO("edge " << e << " component " << i);
            CHECK(ci == Approx(ref["contribution"][e][i].get<double>()).epsilon(1e-5).margin(1e-9));
            sum_sq += ci * ci;
            share_sum += shares.values[e * static_cast<size_t>(c.d_head) + static_cast<size_t>(i)];
        }
        // The components carry the whole edge: Σ c_i² = score².
        CHECK(std::sqrt(sum_sq) == Approx(g.edges[e].weight).epsilon(1e-6));
        CHECK(share_sum == Approx(1.0).epsilon(1e-6));
    }
}

TEST_CASE("channel edit: scale 1 changes nothing; other scales match numpy", "[channel_edit][talking_heads][reference]") {
    torch::NoGradGuard no_grad;
    TempDir tmp;
    LoadedModel m = load_model(tiny_world());
    const ModelConfig& c = m.model->config();
    const std::vector<TokenizedPrompt> prompts =
        tokenize_prompts(*m.tokenizer, {{"t", "The capital of France is Paris. The capital of Spain is", "", "", ""}});
    const torch::Tensor tokens = tokens_of(prompts[0]);
    const torch::Tensor clean = m.model->forward(tokens);

    ChannelEditOptions one;
    one.scale = 1.0;
    one.rank = 4;
    CHECK(torch::equal(channel_edit_map(*m.model, 1, 3, one), torch::eye(c.d_head, torch::kDouble)));
    const torch::Tensor same = m.model->run_with_hooks(tokens, {channel_edit_hook(*m.model, 1, {3, 6}, one)});
    const NamedHook noop{hook_name(HookKey{HookSite::attn_z, 1}),
                         [](const at::Tensor&, const HookPoint&) -> std::optional<at::Tensor> { return std::nullopt; }};
    CHECK(torch::equal(same, m.model->run_with_hooks(tokens, {noop})));
    CHECK(torch::allclose(same, clean, 1e-6, 1e-7));

    const int layer = 1, head = 3, kv = head / (c.n_heads / c.n_kv_heads);
    for (const auto& [scale, rank] : {std::pair<double, int>{2.0, 2}, {0.0, 1}, {-1.0, 5}}) {
        ChannelEditOptions o;
        o.scale = scale;
        o.rank = rank;
        const std::string z_name = hook_name(HookKey{HookSite::attn_z, layer});
        // Hooks on one point run in order: `grab` sees the edited z. Its head output through W_O must equal
        // numpy's projection of the clean output.
        const CachedRun before = m.model->run_with_cache(tokens, {z_name});
        torch::Tensor edited;
        const NamedHook edit = channel_edit_hook(*m.model, layer, {head}, o);
        const NamedHook grab{z_name, [&edited](const at::Tensor& z, const HookPoint&) -> std::optional<at::Tensor> {
                                 edited = z.clone();
                                 return std::nullopt;
                             }};
        const torch::Tensor logits = m.model->run_with_hooks(tokens, {edit, grab});
        REQUIRE(edited.defined());
        const LayerWeights& w = m.model->weights().layers[layer];
        const torch::Tensor z0 = before.cache.at(HookSite::attn_z, layer)[0];  // [T, H, dh]
        CHECK(torch::equal(edited[0].select(1, 0), z0.select(1, 0)));  // other heads untouched
        write_file(tmp.file("acts.json"), fmt::format("{{\"z\": {}, \"W_V\": {}, \"W_O\": {}, \"scale\": {}, \"r\": {}}}",
                                                       tensor_json(z0.select(1, head)),
                                                       tensor_json(w.W_V[kv] * w.ln1_w.unsqueeze(1)), tensor_json(w.W_O[head]),
                                                       scale, rank));
        const torch::Tensor want =
            json_matrix(run_reference("analysis_reference_papers.py", {"channel", tmp.file("acts.json")}), "out");
        const torch::Tensor got = torch::matmul(edited[0].select(1, head).to(torch::kDouble), w.W_O[head].to(torch::kDouble));
        INFO("scale " << scale << " rank " << rank);
        CHECK(torch::allclose(got, want, 1e-4, 1e-5));
        CHECK(!torch::allclose(logits, clean, 1e-5, 1e-6));
    }
    CHECK_THROWS_WITH(channel_edit_map(*m.model, 9, 0, one), Catch::Contains("does not exist"));
    ChannelEditOptions zero_rank = one;
    zero_rank.rank = 0;
    CHECK_THROWS_WITH(channel_edit_map(*m.model, 0, 0, zero_rank), Catch::Contains("at least 1"));
}

TEST_CASE("head_intervention mode=channel on the laundry list", "[head_intervention][channel_edit][talking_heads]") {
    LoadedModel m = load_model(tiny_world());
    const ModelConfig& c = m.model->config();
    const std::vector<TokenizedPrompt> prompts =
        tokenize_prompts(*m.tokenizer, load_prompt_set(source_dir() + "/data/prompts/laundry_list.jsonl"));
    const Result one = run_builtin("head_intervention", m, prompts,
                                   {{"heads", "L1H3,L2H5"}, {"mode", "channel"}, {"scale", "1"}, {"channel_rank", "2"}});
    for (const auto& row : table(one, "averages").rows) CHECK(cell_number(row[3]) == Approx(0.0).margin(1e-9));
    bool accuracy = false;
    for (const auto& line : one.summary) accuracy = accuracy || line.find("  accuracy (top-1 is the answer)") == 0;
    CHECK(accuracy);
    // Scaling every output direction (r = d_head) by 0 removes the head's output: zero ablation.
    const Result all = run_builtin("head_intervention", m, prompts,
                                   {{"heads", "L1H3"}, {"mode", "channel"}, {"scale", "0"}, {"channel_rank", std::to_string(c.d_head)}});
    const Result zero = run_builtin("head_intervention", m, prompts, {{"heads", "L1H3"}, {"mode", "zero"}});
    const Table& a = table(all, "per_prompt");
    const Table& b = table(zero, "per_prompt");
    REQUIRE(a.rows.size() == b.rows.size());
    for (size_t i = 0; i < a.rows.size(); ++i)
        CHECK(cell_number(a.rows[i][8]) == Approx(cell_number(b.rows[i][8])).margin(1e-4));  // logit_diff_after
}
