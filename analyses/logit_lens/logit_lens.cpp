// logit_lens: what the residual stream would predict after every layer, read through the final
// norm and the unembedding (nostalgebraist's logit lens; the final norm applied as a function of
// that residual, as TransformerLens' apply_ln_to_stack does).
#include <torch/torch.h>

#include <fmt/format.h>

#include <algorithm>

#include "headscope/hook_names.hpp"
#include "headscope/sdk/analysis.hpp"
#include "headscope/sdk/result_helpers.hpp"

namespace headscope {

namespace {

// The model's final norm applied to x [T, d] (the same arithmetic as the forward pass), then
// W_U and b_U: logits [T, V].
at::Tensor lens_logits(const HookedTransformer& model, const at::Tensor& x) {
    const ModelConfig& c = model.config();
    const ModelWeights& w = model.weights();
    at::Tensor y = x;
    if (c.final_norm) {
        const at::Tensor centred = c.norm == NormKind::layer ? x - x.mean(-1, true) : x;
        y = centred / (centred.pow(2).mean(-1, true) + c.norm_eps).sqrt() * w.ln_final_w;
        if (w.ln_final_b.defined()) y = y + w.ln_final_b;
    }
    at::Tensor logits = model.unembed(y);
    if (c.final_softcap > 0) logits = at::tanh(logits / c.final_softcap) * c.final_softcap;  // as the forward (Gemma-2)
    return logits;
}

class LogitLens : public Analysis {
public:
    std::string id() const override { return "logit_lens"; }
    std::string title() const override { return "Logit lens"; }
    std::string version() const override { return "1.0"; }
    std::string description() const override {
        return "Top predictions of the residual stream after the embeddings and after every layer "
               "(blocks.L.hook_resid_post), each read through the model's final norm (applied to that residual) and "
               "the unembedding W_U. At the last layer this is the model's own output.";
    }
    std::vector<ParamSpec> parameters() const override {
        return {
            ParamSpec::integer("top_k", 5, "predictions listed per layer and position", 1, 100),
            ParamSpec::choice("positions", "all", {"all", "last"},
                              "positions listed in the table: every position or the last only"),
            ParamSpec::integer("max_prompts", 16, "prompts analysed (the first ones); 0 for all", 0, 1e9),
        };
    }
    std::vector<std::string> hooks(const ModelConfig& c, const ParamValues&) const override {
        return {hook_name(HookKey{HookSite::resid_pre, 0}), "blocks.*.hook_resid_post"};
    }

    Result run(AnalysisContext& ctx) override {
        torch::NoGradGuard no_grad;
        const ModelConfig& c = ctx.config();
        const int64_t top_k = std::min<int64_t>(ctx.params.get_int("top_k"), c.d_vocab);
        const bool last_only = ctx.params.get_text("positions") == "last";
        const int64_t max_prompts = ctx.params.get_int("max_prompts");
        const size_t n = max_prompts == 0 ? ctx.prompts.size()
                                          : std::min(ctx.prompts.size(), static_cast<size_t>(max_prompts));
        const int rows = c.n_layers + 1;
        std::vector<std::string> row_labels{"embed"};
        for (int l = 0; l < c.n_layers; ++l) row_labels.push_back(fmt::format("L{}", l));

        Result result;
        Table table;
        table.key = "top_predictions";
        table.title = "Logit lens predictions";
        table.description =
            "Per prompt, residual stream (row 'embed' = the embeddings, 'L<l>' = after layer l) and position: the "
            "top_k tokens of the final norm + unembedding read at that point, with their logit and probability.";
        table.columns = {"prompt", "layer", "position", "token", "rank", "prediction", "logit", "probability"};
        std::vector<Matrix> matrices;
        std::vector<TokenScores> settling;

        for (size_t i = 0; i < n; ++i) {
            ctx.step(static_cast<double>(i) / static_cast<double>(n), fmt::format("prompt {}/{}", i + 1, n));
            const TokenizedPrompt& prompt = ctx.prompts[i];
            const CachedRun& run = ctx.clean_run(i);
            const int64_t T = static_cast<int64_t>(prompt.ids.size());
            // Targets: the model's own top-1 at every position; the answer at the last one if given.
            at::Tensor target = run.logits[0].argmax(-1).to(at::kLong).cpu();  // [T]
            const at::Tensor final_top = target.clone();
            if (prompt.answer_id >= 0 && prompt.answer_id < c.d_vocab) target[T - 1] = prompt.answer_id;

            Matrix m;
            m.key = fmt::format("target_probability_p{}", i);
            m.title = fmt::format("Prompt {}: probability of the final prediction", i);
            m.description = "Logit-lens probability, after each layer (rows), of the token the model finally predicts "
                            "at each position (columns)" +
                            std::string(prompt.answer_id >= 0 ? "; at the last position, of the answer token." : ".");
            m.rows = rows;
            m.cols = static_cast<int>(T);
            m.row_labels = row_labels;
            for (int32_t id : prompt.ids) m.col_labels.push_back(token_display_text(ctx.tokenizer, id));
            m.row_axis = "residual stream";
            m.col_axis = "position";
            std::vector<std::vector<bool>> is_top(static_cast<size_t>(rows), std::vector<bool>(static_cast<size_t>(T)));

            for (int r = 0; r < rows; ++r) {
                const at::Tensor& resid = r == 0 ? run.cache.at(HookSite::resid_pre, 0)
                                                 : run.cache.at(HookSite::resid_post, r - 1);
                const at::Tensor logits = lens_logits(ctx.model, resid[0]).to(at::kFloat).cpu();  // [T, V]
                const at::Tensor probs = logits.softmax(-1);
                const at::Tensor p_target = probs.gather(1, target.unsqueeze(1)).squeeze(1).to(at::kDouble).contiguous();
                m.values.insert(m.values.end(), p_target.data_ptr<double>(), p_target.data_ptr<double>() + T);
                const at::Tensor agrees = logits.argmax(-1).eq(final_top).contiguous();
                for (int64_t t = 0; t < T; ++t)
                    is_top[static_cast<size_t>(r)][static_cast<size_t>(t)] = agrees[t].item<bool>();
                auto [top_logits_t, top_ids_t] = logits.topk(top_k, -1);
                const at::Tensor top_probs_t = probs.gather(1, top_ids_t).to(at::kDouble).contiguous();
                top_logits_t = top_logits_t.to(at::kDouble).contiguous();
                top_ids_t = top_ids_t.to(at::kLong).contiguous();
                const auto top_logits = top_logits_t.accessor<double, 2>();
                const auto top_probs = top_probs_t.accessor<double, 2>();
                const auto top_ids = top_ids_t.accessor<int64_t, 2>();
                for (int64_t t = last_only ? T - 1 : 0; t < T; ++t)
                    for (int64_t k = 0; k < top_k; ++k) {
                        const int64_t id = top_ids[t][k];
                        table.rows.push_back({static_cast<int64_t>(i), row_labels[static_cast<size_t>(r)], t,
                                              token_display_text(ctx.tokenizer, prompt.ids[static_cast<size_t>(t)]), k + 1,
                                              token_display_text(ctx.tokenizer, id),
                                              top_logits[t][k], top_probs[t][k]});
                    }
            }
            matrices.push_back(std::move(m));

            TokenScores s;
            s.key = fmt::format("settling_depth_p{}", i);
            s.title = fmt::format("Prompt {}: depth at which the prediction settles", i);
            s.description = "Per position, the first residual stream (0 = embeddings, l + 1 = after layer l) from "
                            "which the logit lens's top-1 token stays the model's final prediction.";
            for (int64_t t = 0; t < T; ++t) {
                int depth = rows - 1;
                while (depth > 0 && is_top[static_cast<size_t>(depth - 1)][static_cast<size_t>(t)]) --depth;
                s.tokens.push_back(prompt.token_texts[static_cast<size_t>(t)]);
                s.scores.push_back(depth);
            }
            settling.push_back(std::move(s));
            if (i < 3) {
                const std::string last = token_display_text(ctx.tokenizer, final_top[T - 1].item<int64_t>());
                result.summary.push_back(fmt::format("prompt {}: next token '{}' settles at depth {} of {}", i, last,
                                                     settling.back().scores.back(), rows - 1));
            }
        }
        {
            double depth = 0;
            for (const TokenScores& s : settling) depth += s.scores.back() / static_cast<double>(settling.size());
            result.headline = fmt::format(
                "At the final position the logit lens's top token becomes the model's prediction, and stays it, at depth "
                "{:.2f} of {} on average over {} prompt(s) (0 = the embeddings, {} = after the last layer).",
                depth, rows - 1, settling.size(), rows - 1);
        }
        table.appendix = true;  // every top prediction at every depth: reference material
        result.items.push_back(std::move(table));
        for (Matrix& m : matrices) result.items.push_back(std::move(m));
        for (TokenScores& s : settling) result.items.push_back(std::move(s));
        ctx.step(1.0, "done");
        return result;
    }
};

}  // namespace

void register_logit_lens(AnalysisRegistry& registry) {
    registry.add([] { return std::make_unique<LogitLens>(); });
}

}  // namespace headscope
