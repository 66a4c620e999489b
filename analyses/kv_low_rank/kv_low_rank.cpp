// kv_low_rank (TransMLA, X-EcoMLA, TPLA, low-rank MHA): how low-rank each kv head's keys and
// values are. Over a prompt set, the PCA (uncentred: the second moment, which is what a linear
// rank-r cache keeps) of every kv head's keys before and after rotary and of its values; the
// joint rank of the layer's stacked W_K / W_V and of all its kv heads' keys/values together; and
// what a rank-r K/V costs: keys/values replaced by their rank-r projection through hooks.
#include <torch/torch.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "headscope/sdk/analysis.hpp"
#include "headscope/sdk/result_helpers.hpp"
#include "kv_low_rank/kv_spectra.hpp"

namespace headscope {

namespace {

struct Site {
    HookSite site;
    const char* name;   // in keys and tables
    const char* title;
};
const Site kSites[3] = {
    {HookSite::attn_k, "k", "keys before rotary (hook_k)"},
    {HookSite::attn_rot_k, "rot_k", "keys after rotary (hook_rot_k)"},
    {HookSite::attn_v, "v", "values (hook_v)"},
};
const double kShares[3] = {0.90, 0.95, 0.99};

std::vector<int64_t> parse_ranks(const std::string& text) {
    std::vector<int64_t> out;
    std::stringstream in(text);
    for (std::string part; std::getline(in, part, ',');) {
        if (part.find_first_not_of(" \t") == std::string::npos) continue;
        size_t used = 0;
        long long r = 0;
        try {
            r = std::stoll(part, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used == 0 || part.find_first_not_of(" \t", used) != std::string::npos || r < 1)
            throw UsageError(fmt::format("kv_low_rank.ranks: '{}' is not a positive integer (write e.g. 1,2,4,8)", part));
        out.push_back(r);
    }
    if (out.empty()) throw UsageError("kv_low_rank.ranks: give at least one rank, e.g. 1,2,4,8");
    return out;
}

std::vector<double> to_vector(const at::Tensor& t) {
    const at::Tensor c = t.to(at::kDouble).cpu().contiguous();
    return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

// Mean next-token loss, mean KL(clean || edited) over positions, logit difference at the end.
struct Scores {
    double loss = 0, kl = 0, logit_diff = 0;
};
Scores score(const at::Tensor& clean_logits, const at::Tensor& logits, const at::Tensor& tokens, int64_t answer,
             int64_t alternative) {
    const at::Tensor lp = at::log_softmax(logits[0].to(at::kDouble), -1);        // [T, V]
    const at::Tensor lp0 = at::log_softmax(clean_logits[0].to(at::kDouble), -1);  // [T, V]
    const int64_t T = lp.size(0);
    Scores s;
    if (T > 1) {
        const at::Tensor next = tokens[0].narrow(0, 1, T - 1).to(at::kLong).cpu().unsqueeze(1);
        s.loss = -lp.narrow(0, 0, T - 1).gather(1, next).mean().item<double>();
    }
    s.kl = (lp0.exp() * (lp0 - lp)).sum(-1).mean().item<double>();
    s.logit_diff = (logits[0][-1][answer] - logits[0][-1][alternative]).item<double>();
    return s;
}

class KvLowRank : public Analysis {
public:
    std::string id() const override { return "kv_low_rank"; }
    std::string title() const override { return "Low rank of keys and values"; }
    std::string version() const override { return "1.0"; }
    std::string description() const override {
        return "How far each kv head's keys (before and after rotary) and values can be compressed (TransMLA, "
               "X-EcoMLA, TPLA, low-rank MHA). Over the prompts: the PCA (uncentred, i.e. of the second moment XᵀX) "
               "of every kv head's keys and values — energy curve and the rank reaching 90/95/99% of the energy; "
               "the joint rank of the layer's W_K and W_V stacked across kv heads and of all kv heads' activations "
               "together; and the cost of a rank-r cache: every layer's keys or values replaced by their projection "
               "on the top-r components (hooks on hook_k / hook_rot_k / hook_v), as KL from the clean run, change "
               "of the next-token loss and of the final logit difference (answer − alternative, else the clean "
               "top-2).";
    }
    std::vector<ParamSpec> parameters() const override {
        return {ParamSpec::text("ranks", "1,2,4,8", "ranks r of the rank-r K/V whose cost is measured"),
                ParamSpec::boolean("measure_cost", true, "run the prompts again with rank-r keys / values")};
    }
    std::vector<std::string> hooks(const ModelConfig& c, const ParamValues&) const override {
        std::vector<std::string> h = {"blocks.*.attn.hook_k", "blocks.*.attn.hook_v"};
        if (c.positions == PositionKind::rotary) h.push_back("blocks.*.attn.hook_rot_k");
        return h;
    }

    Result run(AnalysisContext& ctx) override;

private:
    std::vector<const Site*> sites(const ModelConfig& c) const {
        std::vector<const Site*> out;
        for (const Site& s : kSites)
            if (s.site != HookSite::attn_rot_k || c.positions == PositionKind::rotary) out.push_back(&s);
        return out;
    }
};

Result KvLowRank::run(AnalysisContext& ctx) {
    torch::NoGradGuard no_grad;
    const ModelConfig& c = ctx.config();
    const int L = c.n_layers, K = c.n_kv_heads;
    const int64_t dh = c.d_head;
    const std::vector<int64_t> ranks = parse_ranks(ctx.params.get_text("ranks"));
    const std::vector<const Site*> used = sites(c);
    const size_t N = ctx.prompts.size();

    // Per site and layer: Gram per kv head [K, dh, dh] and of the kv heads together [K*dh, K*dh].
    std::vector<std::vector<at::Tensor>> gram(used.size()), joint(used.size());
    for (size_t s = 0; s < used.size(); ++s)
        for (int l = 0; l < L; ++l) {
            gram[s].push_back(at::zeros({K, dh, dh}, at::kDouble));
            joint[s].push_back(at::zeros({K * dh, K * dh}, at::kDouble));
        }
    int64_t tokens = 0;
    for (size_t p = 0; p < N; ++p) {
        ctx.step(0.3 * static_cast<double>(p) / static_cast<double>(N), fmt::format("PCA: prompt {}/{}", p + 1, N));
        const CachedRun& run = ctx.clean_run(p);
        tokens += run.logits.size(1);
        for (size_t s = 0; s < used.size(); ++s)
            for (int l = 0; l < L; ++l) {
                const at::Tensor x = run.cache.at(used[s]->site, l)[0].to(at::kDouble).cpu();  // [T, K, dh]
                gram[s][static_cast<size_t>(l)] += at::einsum("tki,tkj->kij", {x, x});
                const at::Tensor flat = x.reshape({x.size(0), K * dh});
                joint[s][static_cast<size_t>(l)] += at::matmul(flat.t(), flat);
            }
    }

    Result result;
    Table rank_table;
    rank_table.key = "ranks";
    rank_table.title = "Rank of each kv head's keys and values";
    rank_table.description = fmt::format(
        "Per kv head and site, over {} token(s): the fewest principal components (of the uncentred second moment) "
        "holding 90/95/99% of the energy, the numerical rank (eigenvalues above 1e-9 of the largest) and d_head.",
        tokens);
    rank_table.columns = {"layer", "kv_head", "site", "rank_90", "rank_95", "rank_99", "numerical_rank", "d_head"};
    Table joint_table;
    joint_table.key = "joint_ranks";
    joint_table.title = "Joint rank across the kv heads of a layer";
    joint_table.description =
        "Per layer: the rank reaching 90/95/99% of the energy of W_K and W_V stacked across kv heads ([d_model, "
        "kv_heads·d_head], energy = squared singular values) and of all kv heads' activations together (the "
        "[tokens, kv_heads·d_head] keys or values). Low values mean one shared low-rank latent (MLA) can serve all "
        "heads.";
    joint_table.columns = {"layer", "what", "rank_90", "rank_95", "rank_99", "numerical_rank", "columns"};
    std::vector<std::vector<double>> grid95(used.size());
    std::vector<Spectrum> curves;
    std::vector<std::vector<kv::Spectrum>> spectra(used.size());
    for (size_t s = 0; s < used.size(); ++s)
        for (int l = 0; l < L; ++l) {
            const kv::Spectrum sp = kv::gram_spectrum(gram[s][static_cast<size_t>(l)]);
            std::vector<at::Tensor> rk;
            for (double share : kShares) rk.push_back(kv::rank_for_energy(sp.values, share));
            const at::Tensor numeric = kv::numerical_rank(sp.values);
            for (int k = 0; k < K; ++k)
                rank_table.rows.push_back({static_cast<int64_t>(l), static_cast<int64_t>(k), std::string(used[s]->name),
                                           rk[0][k].item<int64_t>(), rk[1][k].item<int64_t>(), rk[2][k].item<int64_t>(),
                                           numeric[k].item<int64_t>(), dh});
            const std::vector<double> r95 = to_vector(rk[1]);
            grid95[s].insert(grid95[s].end(), r95.begin(), r95.end());
            Spectrum curve;
            curve.key = fmt::format("energy_{}_L{}", used[s]->name, l);
            curve.title = fmt::format("Layer {} energy curve of the {}", l, used[s]->title);
            curve.description = "Cumulative share of the energy in the first principal components, one curve per kv head.";
            const at::Tensor e = kv::energy_curve(sp.values);
            for (int k = 0; k < K; ++k) {
                curve.series_names.push_back(fmt::format("kv head {}", k));
                curve.series.push_back(to_vector(e[k]));
            }
            curve.x_axis = "principal component";
            curve.y_axis = "cumulative energy";
            curves.push_back(std::move(curve));
            spectra[s].push_back(sp);
            // Joint activation rank.
            const kv::Spectrum js = kv::gram_spectrum(joint[s][static_cast<size_t>(l)]);
            joint_table.rows.push_back({static_cast<int64_t>(l), std::string("activations ") + used[s]->name,
                                        kv::rank_for_energy(js.values, 0.90).item<int64_t>(),
                                        kv::rank_for_energy(js.values, 0.95).item<int64_t>(),
                                        kv::rank_for_energy(js.values, 0.99).item<int64_t>(),
                                        kv::numerical_rank(js.values).item<int64_t>(), K * dh});
        }
    for (int l = 0; l < L; ++l) {
        const LayerWeights& w = ctx.model.weights().layers[static_cast<size_t>(l)];
        for (const auto& [name, W] : {std::pair<const char*, at::Tensor>{"W_K", w.W_K}, {"W_V", w.W_V}}) {
            const at::Tensor stacked = W.to(at::kDouble).permute({1, 0, 2}).reshape({c.d_model, K * dh});  // [d, K*dh]
            const at::Tensor energy = at::linalg_svdvals(stacked).square();
            joint_table.rows.push_back({static_cast<int64_t>(l), std::string(name), kv::rank_for_energy(energy, 0.90).item<int64_t>(),
                                        kv::rank_for_energy(energy, 0.95).item<int64_t>(),
                                        kv::rank_for_energy(energy, 0.99).item<int64_t>(),
                                        kv::numerical_rank(energy).item<int64_t>(), K * dh});
        }
    }
    for (size_t s = 0; s < used.size(); ++s) {
        HeadGrid g = make_head_grid(fmt::format("rank95_{}", used[s]->name),
                                    fmt::format("Rank for 95% energy, {}", used[s]->title),
                                    fmt::format("Per layer and kv head (columns are the {} kv heads, not the query "
                                                "heads): the fewest principal components holding 95% of the energy of "
                                                "its {}; d_head = {}.",
                                                K, used[s]->title, dh),
                                    L, K, std::move(grid95[s]));
        double mean = 0;
        for (double v : g.values) mean += v / static_cast<double>(g.values.size());
        result.summary.push_back(fmt::format("{}: mean rank for 95% energy {:.2f} of d_head {}", used[s]->title, mean, dh));
        result.items.push_back(std::move(g));
    }

    if (ctx.params.get_bool("measure_cost")) {
        Table cost;
        cost.key = "rank_r_cost";
        cost.title = "Cost of a rank-r key / value cache";
        cost.description = fmt::format(
            "Every layer's keys or values (one site at a time) replaced by their projection on the top-r principal "
            "components of their kv head; means over {} prompt(s): KL(clean || edited) averaged over positions (nats), "
            "the next-token loss and the final logit difference before and after.",
            N);
        cost.columns = {"site", "rank", "kl", "loss_before", "loss_after", "loss_change", "logit_diff_before",
                        "logit_diff_after", "logit_diff_change"};
        std::vector<int64_t> answers(N), alternatives(N);
        std::vector<Scores> clean(N);
        for (size_t p = 0; p < N; ++p) {
            const TokenizedPrompt& tp = ctx.prompts[p];
            const at::Tensor& logits = ctx.clean_run(p).logits;
            const auto top2 = std::get<1>(logits[0][-1].topk(2));
            answers[p] = tp.answer_id >= 0 ? tp.answer_id : top2[0].item<int64_t>();
            alternatives[p] = tp.alternative_id >= 0 ? tp.alternative_id : top2[1].item<int64_t>();
            if (alternatives[p] == answers[p]) alternatives[p] = top2[top2[0].item<int64_t>() == answers[p] ? 1 : 0].item<int64_t>();
            clean[p] = score(logits, logits, ctx.tokens(p), answers[p], alternatives[p]);
        }
        const size_t total = used.size() * ranks.size();
        size_t done = 0;
        for (size_t s = 0; s < used.size(); ++s)
            for (int64_t r : ranks) {
                ctx.step(0.3 + 0.7 * static_cast<double>(done++) / static_cast<double>(total),
                         fmt::format("rank-{} {}", r, used[s]->name));
                std::vector<NamedHook> edits;
                for (int l = 0; l < L; ++l) {
                    const at::Tensor P = kv::top_projector(spectra[s][static_cast<size_t>(l)], r);  // [K, dh, dh]
                    edits.push_back({hook_name(HookKey{used[s]->site, l}),
                                     [P](const at::Tensor& x, const HookPoint&) -> std::optional<at::Tensor> {
                                         return at::einsum("btki,kij->btkj", {x, P.to(x.device(), x.scalar_type())});
                                     }});
                }
                Scores mean, before;
                for (size_t p = 0; p < N; ++p) {
                    const at::Tensor logits = ctx.model.run_with_hooks(ctx.tokens(p), edits);
                    const Scores sc = score(ctx.clean_run(p).logits, logits, ctx.tokens(p), answers[p], alternatives[p]);
                    mean.loss += sc.loss / N, mean.kl += sc.kl / N, mean.logit_diff += sc.logit_diff / N;
                    before.loss += clean[p].loss / N, before.logit_diff += clean[p].logit_diff / N;
                }
                cost.rows.push_back({std::string(used[s]->name), r, mean.kl, before.loss, mean.loss, mean.loss - before.loss,
                                     before.logit_diff, mean.logit_diff, mean.logit_diff - before.logit_diff});
                result.summary.push_back(fmt::format("rank-{} {}: KL {:.4g}, loss {:+.4f}, logit difference {:+.4f}", r,
                                                     used[s]->name, mean.kl, mean.loss - before.loss,
                                                     mean.logit_diff - before.logit_diff));
            }
        result.items.push_back(std::move(cost));
    }
    result.items.push_back(std::move(rank_table));
    result.items.push_back(std::move(joint_table));
    for (auto& curve : curves) result.items.push_back(std::move(curve));
    ctx.step(1.0, "done");
    return result;
}

}  // namespace

void register_kv_low_rank(AnalysisRegistry& registry) {
    registry.add([] { return std::make_unique<KvLowRank>(); });
}

}  // namespace headscope
