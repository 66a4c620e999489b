// head_detectors on heads whose patterns are known by construction (hooks plant previous-token,
// duplicate-token and induction patterns) and on the tutorial model induction-2l, whose
// induction head is identified independently by zero-ablation.
#include <torch/torch.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <regex>

#include "headscope/model_loader.hpp"
#include "headscope/sdk/analysis_runner.hpp"
#include "headscope/seeded_rng.hpp"
#include "headscope/tutorial_tasks.hpp"
#include "support/analysis_support.hpp"
#include "support/test_support.hpp"

namespace headscope {
void register_head_detectors(AnalysisRegistry& registry);
}

using namespace headscope;
using namespace headscope::test;

namespace {

Result run_detectors(HookedTransformer& model, const Tokenizer& tok, std::map<std::string, std::string> params,
                     const std::vector<PromptExample>& prompts = {}) {
    AnalysisRegistry registry;
    register_head_detectors(registry);
    Progress progress;
    Result r = run_analysis(registry, {"head_detectors", std::move(params)}, model, tok,
                            tokenize_prompts(tok, prompts), progress);
    INFO(r.error);
    REQUIRE(r.error.empty());
    return r;
}

std::pair<int, int> best(const HeadGrid& g) {
    const size_t i = static_cast<size_t>(std::max_element(g.values.begin(), g.values.end()) - g.values.begin());
    return {static_cast<int>(i) / g.heads, static_cast<int>(i) % g.heads};
}

// Plants patterns with hooks. Token identity is read from hook_embed (equal tokens have equal
// embedding rows), so the planted heads follow whatever sequence the analysis runs.
struct Planted {
    std::shared_ptr<torch::Tensor> same = std::make_shared<torch::Tensor>();  // [B, q, k] same token, k < q
    std::vector<HookHandle> handles;

    // kind: 0 previous token, 1 duplicate token, 2 induction. Rows with no target attend to position 0.
    void plant(HookedTransformer& model, int layer, int head, int kind) {
        auto same_ptr = same;
        handles.push_back(model.add_hook(hook_name("pattern", layer), [=](const at::Tensor& p, const HookPoint&) {
            const int64_t T = p.size(2);
            torch::Tensor target = torch::zeros({p.size(0), T, T}, p.options());
            if (kind == 0) {
                for (int64_t q = 1; q < T; ++q) target.select(1, q).select(1, q - 1).fill_(1.0);
            } else {
                torch::Tensor m = same_ptr->to(p.dtype());
                if (kind == 2) {
                    torch::Tensor shifted = torch::zeros_like(m);
                    shifted.narrow(2, 1, T - 1).copy_(m.narrow(2, 0, T - 1));
                    m = shifted;
                }
                target = m;
            }
            torch::Tensor total = target.sum(-1, true);
            torch::Tensor none = (total == 0).to(p.dtype());
            target.select(2, 0).add_(none.squeeze(-1));
            target = target / target.sum(-1, true);
            torch::Tensor out = p.clone();
            out.select(1, head).copy_(target);
            return out;
        }));
    }

    void watch_tokens(HookedTransformer& model) {
        auto same_ptr = same;
        handles.push_back(model.add_hook("hook_embed", [same_ptr](const at::Tensor& e, const HookPoint&) {
            const torch::Tensor eq = (e.unsqueeze(2) - e.unsqueeze(1)).abs().amax(-1).eq(0);  // [B, q, k]
            *same_ptr = eq.logical_and(torch::ones({e.size(1), e.size(1)}, torch::kBool).tril(-1));
            return std::optional<at::Tensor>();
        }));
    }
};

}  // namespace

TEST_CASE("head_detectors finds planted previous-token, duplicate-token and induction heads", "[head_detectors]") {
    torch::NoGradGuard no_grad;
    LoadedModel m = load_model(stories_bin());
    Planted planted;
    planted.watch_tokens(*m.model);
    planted.plant(*m.model, 1, 2, 0);
    planted.plant(*m.model, 2, 6, 1);
    planted.plant(*m.model, 3, 5, 2);
    const Result r = run_detectors(*m.model, *m.tokenizer, {{"seq_len", "30"}, {"batch", "3"}, {"seed", "4"}});

    const HeadGrid& prev = grid(r, "previous_token_score");
    const HeadGrid& dup = grid(r, "duplicate_token_score");
    const HeadGrid& ind = grid(r, "induction_score");
    CHECK(prev.layers == 5);
    CHECK(prev.heads == 8);
    CHECK(best(prev) == std::make_pair(1, 2));
    CHECK(best(dup) == std::make_pair(2, 6));
    CHECK(best(ind) == std::make_pair(3, 5));
    CHECK(prev.at(1, 2) == Approx(1.0).margin(1e-9));
    CHECK(dup.at(2, 6) == Approx(1.0).margin(1e-9));
    CHECK(ind.at(3, 5) == Approx(1.0).margin(1e-9));
    // The planted heads attend nowhere else: an induction head is not a previous-token head.
    CHECK(prev.at(3, 5) < 0.05);
    CHECK(ind.at(1, 2) < 0.05);
    CHECK(dup.at(3, 5) < 0.05);
    CHECK_THAT(r.summary[0], Catch::StartsWith("Induction score: L3H5 1.000"));
    CHECK(r.find("induction_score_prompts") == nullptr);
}

TEST_CASE("head_detectors scores the prompts too when it is given some", "[head_detectors]") {
    torch::NoGradGuard no_grad;
    LoadedModel m = load_model(stories_bin());
    Planted planted;
    planted.watch_tokens(*m.model);
    planted.plant(*m.model, 0, 3, 2);
    PromptExample p;
    p.prompt = "Tom had a red ball. Tom had a red ball. Tom had";
    PromptExample q;
    q.prompt = "Once upon a time";
    const Result r = run_detectors(*m.model, *m.tokenizer, {{"seq_len", "10"}}, {p, q});
    const HeadGrid& ind = grid(r, "induction_score_prompts");
    CHECK(best(ind) == std::make_pair(0, 3));
    CHECK(ind.at(0, 3) == Approx(1.0).margin(1e-9));
    CHECK(grid(r, "previous_token_score_prompts").layers == 5);
    CHECK(grid(r, "duplicate_token_score_prompts").heads == 8);
    // The summary gives the prompt-based scores too, the planted head first.
    bool said = false;
    for (const auto& line : r.summary) said |= line.rfind("Induction score (prompts): L0H3 1.000", 0) == 0;
    INFO(r.summary.size() << " summary lines");
    CHECK(said);
}

TEST_CASE("head_detectors refuses sequences longer than a learned context", "[head_detectors]") {
    TempDir tmp;
    const std::string dir = tmp.file("gpt2");
    // hf_reference's GPT-2 has 64 learned positions.
    REQUIRE(run_command({python(), source_dir() + "/tests/reference/hf_reference.py", "write", "gpt2", dir}).exit_code == 0);
    LoadedModel m = load_model(dir);
    AnalysisRegistry registry;
    register_head_detectors(registry);
    Progress progress;
    const Result r = run_analysis(registry, {"head_detectors", {{"seq_len", "40"}}}, *m.model, *m.tokenizer, {}, progress);
    CHECK_THAT(r.error, Catch::Contains("context of 64") && Catch::Contains("seq_len"));
    const Result ok = run_analysis(registry, {"head_detectors", {{"seq_len", "31"}}}, *m.model, *m.tokenizer, {}, progress);
    CHECK(ok.error.empty());
}

TEST_CASE("head_detectors ranks induction-2l's induction head first", "[head_detectors][tutorial]") {
    torch::NoGradGuard no_grad;
    const std::string dir = source_dir() + "/data/models/induction-2l";
    REQUIRE(std::filesystem::exists(dir + "/config.json"));  // committed under data/models
    LoadedModel m = load_model(dir);
    const ModelConfig& c = m.model->config();
    REQUIRE(c.n_layers == 2);
    // Default parameters, as a user runs it.
    const Result r = run_detectors(*m.model, *m.tokenizer, {});
    const HeadGrid& induction = grid(r, "induction_score");
    const auto [layer, head] = best(induction);
    CHECK(layer == 1);
    CHECK(induction.values[static_cast<size_t>(layer * induction.heads + head)] > 0.5);
    // Over the whole vocabulary (most of which induction-2l never saw) the same head scores far
    // lower: why the default leaves out untrained embedding rows.
    const HeadGrid& all = grid(run_detectors(*m.model, *m.tokenizer, {{"tokens", "all"}}), "induction_score");
    CHECK(all.values[static_cast<size_t>(layer * all.heads + head)] <
          induction.values[static_cast<size_t>(layer * induction.heads + head)]);

    // Independent identification: the layer-1 head whose zero-ablation hurts next-token accuracy
    // on the repeated half of BOS + 20 random tokens + the same 20 the most. The tokens are words
    // of the tutorial lexicon, the only tokens induction-2l was trained on.
    std::vector<int64_t> pool;
    for (const std::string& w : tutorial::lexicon()) {
        auto word = m.tokenizer->encode(" " + w, false).ids;
        if (word.size() == 1) pool.push_back(word[0]);
    }
    REQUIRE(pool.size() > 100);
    SeededRng rng(99);
    const int64_t B = 32, R = 20;
    const int32_t bos = m.tokenizer->bos_id();
    std::vector<int64_t> ids;
    for (int64_t b = 0; b < B; ++b) {
        std::vector<int64_t> seg;
        for (size_t i : rng.distinct(pool.size(), static_cast<size_t>(R))) seg.push_back(pool[i]);
        if (bos >= 0) ids.push_back(bos);
        ids.insert(ids.end(), seg.begin(), seg.end());
        ids.insert(ids.end(), seg.begin(), seg.end());
    }
    const int64_t T = static_cast<int64_t>(ids.size()) / B, start = T - R;
    const torch::Tensor tokens = torch::tensor(ids, torch::kLong).view({B, T});
    const auto accuracy = [&](const torch::Tensor& logits) {
        const torch::Tensor pred = logits.narrow(1, start - 1, R - 1).argmax(-1);
        return pred.eq(tokens.narrow(1, start, R - 1)).to(torch::kDouble).mean().item<double>();
    };
    const double clean = accuracy(m.model->forward(tokens));
    int worst = -1;
    double worst_acc = 2;
    for (int h = 0; h < c.n_heads; ++h) {
        const torch::Tensor logits = m.model->run_with_hooks(
            tokens, {{hook_name("z", 1), [h](const at::Tensor& z, const HookPoint&) {
                          torch::Tensor out = z.clone();
                          out.select(2, h).zero_();
                          return std::optional<at::Tensor>(out);
                      }}});
        const double acc = accuracy(logits);
        if (acc < worst_acc) {
            worst_acc = acc;
            worst = h;
        }
    }
    INFO("clean repeat accuracy " << clean << ", worst ablation L1H" << worst << " " << worst_acc);
    CHECK(clean > 0.5);
    CHECK(head == worst);
    // The model's README states the head found when it was trained.
    std::smatch match;
    const std::string text = read_file(dir + "/README.md");
    REQUIRE(std::regex_search(text, match, std::regex("Zero-ablating L1H([0-9]+)")));
    CHECK(head == std::stoi(match[1].str()));
}
