// The committed built-in models (data/models) load, reach their task targets through
// `headscope eval`, and contain the known induction circuit, measured directly with hooks.
#include <torch/torch.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>

#include "headscope/model_loader.hpp"
#include "headscope/seeded_rng.hpp"
#include "headscope/tutorial_tasks.hpp"
#include "support/test_support.hpp"

using namespace headscope;
using namespace headscope::test;

namespace {
std::string model_dir(const std::string& name) { return source_dir() + "/data/models/" + name; }
std::string prompts(const std::string& task) { return source_dir() + "/data/prompts/" + task + ".jsonl"; }

std::map<std::string, double> eval_accuracy(const std::vector<std::string>& args) {
    CommandResult r = run_command(args);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    std::map<std::string, double> acc;
    INFO(r.out);
    const nlohmann::json report = nlohmann::json::parse(r.out);  // kept alive: the loop iterates into it
    REQUIRE(!report.at("tasks").empty());
    for (const auto& t : report.at("tasks")) {
        acc[t.at("task").get<std::string>()] = t.at("accuracy").get<double>();
        CHECK(t.at("prompts").get<int>() >= 50);
    }
    return acc;
}
}  // namespace

TEST_CASE("The built-in tiny-world model reaches its targets with headscope eval", "[tutorial_models]") {
    REQUIRE(std::filesystem::exists(model_dir("tiny-world") + "/model.safetensors"));
    // MODEL omitted: the built-in default must be tiny-world.
    std::map<std::string, double> acc = eval_accuracy(
        {HEADSCOPE_CLI, "eval", "--json", "--prompts", prompts("ioi"), "--prompts", prompts("laundry_list"), "--prompts",
         prompts("capitals"), "--prompts", prompts("capitals_counterfactual")});
    CHECK(acc.at("ioi") >= 0.9);
    CHECK(acc.at("laundry_list") >= 0.9);
    CHECK(acc.at("capitals") >= 0.9);
    // The override rate is reported, not targeted; it must at least be measured.
    CHECK(acc.at("capitals_counterfactual") >= 0.0);
    LoadedModel m = load_model(model_dir("tiny-world"));
    CHECK(m.model->config().n_layers == 4);
    CHECK(m.model->config().n_heads == 8);
    CHECK(m.model->config().n_kv_heads == 4);
}

TEST_CASE("The built-in induction-2l model completes repeated random segments", "[tutorial_models]") {
    REQUIRE(std::filesystem::exists(model_dir("induction-2l") + "/model.safetensors"));
    std::map<std::string, double> acc =
        eval_accuracy({HEADSCOPE_CLI, "eval", model_dir("induction-2l"), "--json", "--prompts", prompts("induction")});
    CHECK(acc.at("induction") >= 0.9);
}

TEST_CASE("induction-2l has a layer-1 induction head whose ablation breaks repetition", "[tutorial_models]") {
    REQUIRE(std::filesystem::exists(model_dir("induction-2l") + "/model.safetensors"));
    LoadedModel m = load_model(model_dir("induction-2l"));
    const int H = m.model->config().n_heads;
    // BOS + 20 random single-token words + the same 20.
    std::vector<int64_t> pool;
    for (const std::string& w : tutorial::lexicon()) {
        auto ids = m.tokenizer->encode(" " + w, false).ids;
        if (ids.size() == 1) pool.push_back(ids[0]);
    }
    REQUIRE(pool.size() > 100);
    const int64_t B = 32, L = 20, T = 1 + 2 * L;
    SeededRng rng(2024);
    std::vector<int64_t> flat;
    for (int64_t b = 0; b < B; ++b) {
        flat.push_back(m.tokenizer->bos_id());
        std::vector<int64_t> seg;
        for (size_t i : rng.distinct(pool.size(), L)) seg.push_back(pool[i]);
        flat.insert(flat.end(), seg.begin(), seg.end());
        flat.insert(flat.end(), seg.begin(), seg.end());
    }
    torch::Tensor tokens = torch::tensor(flat, torch::kLong).view({B, T});
    torch::NoGradGuard g;
    CachedRun run = m.model->run_with_cache(tokens, {"blocks.1.attn.hook_pattern"});
    const torch::Tensor pattern = run.cache.at("blocks.1.attn.hook_pattern");  // [B, H, T, T]

    // Query at position p in the second half (token seg[i], p = 1 + L + i) should attend to
    // the token after the first occurrence: position 1 + i + 1 = p - L + 1.
    std::vector<double> score(static_cast<size_t>(H), 0.0);
    int64_t n = 0;
    for (int64_t b = 0; b < B; ++b)
        for (int64_t p = 1 + L; p < T - 1; ++p, ++n)
            for (int h = 0; h < H; ++h) score[static_cast<size_t>(h)] += pattern[b][h][p][p - L + 1].item<double>();
    int best = 0;
    for (int h = 0; h < H; ++h) {
        score[static_cast<size_t>(h)] /= static_cast<double>(n);
        if (score[static_cast<size_t>(h)] > score[static_cast<size_t>(best)]) best = h;
    }
    INFO("best layer-1 head " << best << " induction attention " << score[static_cast<size_t>(best)]);
    CHECK(score[static_cast<size_t>(best)] > 0.5);

    // Repeat accuracy: next-token top-1 over the second occurrence (targets seg[1..L-1]).
    auto repeat_accuracy = [&](const torch::Tensor& logits) {
        torch::Tensor pred = logits.narrow(1, 1 + L, L - 1).argmax(-1);
        return pred.eq(tokens.narrow(1, 2 + L, L - 1)).to(torch::kDouble).mean().item<double>();
    };
    const double clean = repeat_accuracy(run.logits);
    CHECK(clean >= 0.9);
    NamedHook ablate{"blocks.1.attn.hook_z", [best](const at::Tensor& z, const HookPoint&) -> std::optional<at::Tensor> {
                         at::Tensor out = z.clone();
                         out.select(2, best).zero_();
                         return out;
                     }};
    const double ablated = repeat_accuracy(m.model->run_with_hooks(tokens, {ablate}));
    INFO("repeat accuracy " << clean << " -> " << ablated << " with head " << best << " ablated");
    CHECK(ablated < clean / 2);
}
