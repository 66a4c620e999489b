// The intervention engine end to end: the kl / accuracy metrics and flip rates of
// head_attribution and head_intervention against independent computations from the logits,
// uniform ablation, head_search on induction-2l, and the CLI's --intervene on eval, run,
// generate and analyze.
#include <torch/torch.h>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <fstream>

#include "headscope/activation_store.hpp"
#include "headscope/error.hpp"
#include "headscope/hook_names.hpp"
#include "headscope/interventions.hpp"
#include "headscope/model_loader.hpp"
#include "headscope/run_store.hpp"
#include "headscope/sdk/analysis_runner.hpp"
#include "headscope/sdk/prompts.hpp"
#include "support/analysis_support.hpp"
#include "support/test_support.hpp"

using namespace headscope;
using namespace headscope::test;

namespace {
CommandResult cli(std::vector<std::string> args) {
    args.insert(args.begin(), HEADSCOPE_CLI);
    return run_command(args);
}
std::string model_dir(const std::string& name) { return source_dir() + "/data/models/" + name; }
std::string prompt_file(const std::string& task) { return source_dir() + "/data/prompts/" + task + ".jsonl"; }

// The first n lines of a prompt file, as a new file in tmp.
std::string first_prompts(const TempDir& tmp, const std::string& task, size_t n) {
    std::ifstream in(prompt_file(task));
    std::string line, text;
    for (size_t i = 0; i < n && std::getline(in, line); ++i) text += line + "\n";
    const std::string path = tmp.file(task + "_" + std::to_string(n) + ".jsonl");
    write_file(path, text);
    return path;
}

std::vector<TokenizedPrompt> tokenized(const LoadedModel& m, const std::string& path) {
    return tokenize_prompts(*m.tokenizer, load_prompt_set(path));
}

torch::Tensor tokens_of(const std::vector<int32_t>& ids) {
    return torch::tensor(std::vector<int64_t>(ids.begin(), ids.end()), torch::kLong).unsqueeze(0);
}

HookFn zero_head(int head) {
    return [head](const at::Tensor& z, const HookPoint&) -> std::optional<at::Tensor> {
        torch::Tensor out = z.clone();
        out.select(2, head).zero_();
        return out;
    };
}
}  // namespace

TEST_CASE("head_attribution kl and accuracy metrics, flip rate and uniform ablation equal independent computations",
          "[head_attribution][intervention_engine]") {
    TempDir tmp;
    LoadedModel m = load_model(model_dir("tiny-world"));
    const std::vector<TokenizedPrompt> prompts = tokenized(m, first_prompts(tmp, "ioi", 6));
    const int L = m.model->config().n_layers, H = m.model->config().n_heads;
    const double N = static_cast<double>(prompts.size());
    // Independent: one hand-written forward per head and prompt, KL / argmax from the logits.
    std::vector<double> kl(static_cast<size_t>(L * H), 0.0), acc_change(kl.size(), 0.0), flips(kl.size(), 0.0),
        uniform_kl(kl.size(), 0.0);
    torch::NoGradGuard no_grad;
    for (const auto& p : prompts) {
        torch::Tensor t = tokens_of(p.ids);
        torch::Tensor lp0 = torch::log_softmax(m.model->forward(t)[0][-1].to(torch::kDouble), -1);
        const bool correct0 = lp0.argmax().item<int64_t>() == p.answer_id;
        for (int l = 0; l < L; ++l)
            for (int h = 0; h < H; ++h) {
                auto kl_of = [&](const torch::Tensor& logits) {
                    torch::Tensor lp1 = torch::log_softmax(logits[0][-1].to(torch::kDouble), -1);
                    double s = 0;
                    auto a = lp0.accessor<double, 1>();
                    auto b = lp1.accessor<double, 1>();
                    for (int64_t v = 0; v < lp0.size(0); ++v) s += std::exp(a[v]) * (a[v] - b[v]);
                    return s;
                };
                torch::Tensor logits = m.model->run_with_hooks(t, {{fmt::format("blocks.{}.attn.hook_z", l), zero_head(h)}});
                const size_t i = static_cast<size_t>(l * H + h);
                kl[i] += kl_of(logits) / N;
                const int64_t top = logits[0][-1].argmax().item<int64_t>();
                acc_change[i] += ((top == p.answer_id ? 1.0 : 0.0) - (correct0 ? 1.0 : 0.0)) / N;
                flips[i] += (top == p.alternative_id ? 1.0 : 0.0) / N;
                HookFn uniform = [h](const at::Tensor& A, const HookPoint&) -> std::optional<at::Tensor> {
                    torch::Tensor out = A.clone();
                    const int64_t T = A.size(2);
                    for (int64_t q = 0; q < T; ++q) {
                        out[0][h][q].zero_();
                        out[0][h][q].narrow(0, 0, q + 1).fill_(1.0 / static_cast<double>(q + 1));
                    }
                    return out;
                };
                uniform_kl[i] += kl_of(m.model->run_with_hooks(t, {{fmt::format("blocks.{}.attn.hook_pattern", l), uniform}})) / N;
            }
    }
    Result r = run_builtin("head_attribution", m, prompts, {{"metric", "kl"}, {"parts", "ablation"}, {"ablation", "zero"}});
    const HeadGrid& g = grid(r, "ablation_effect");
    for (size_t i = 0; i < kl.size(); ++i) CHECK(g.values[i] == Approx(kl[i]).margin(1e-6));
    CHECK(*std::max_element(kl.begin(), kl.end()) > 1e-3);  // some head matters
    const HeadGrid& f = grid(r, "ablation_flip_rate");
    for (size_t i = 0; i < flips.size(); ++i) CHECK(f.values[i] == Approx(flips[i]).margin(1e-12));

    Result a = run_builtin("head_attribution", m, prompts, {{"metric", "accuracy"}, {"parts", "dla,ablation"}, {"ablation", "zero"}});
    const HeadGrid& ga = grid(a, "ablation_effect");
    for (size_t i = 0; i < acc_change.size(); ++i) CHECK(ga.values[i] == Approx(acc_change[i]).margin(1e-12));
    CHECK(a.find("dla_heads") == nullptr);  // accuracy is not linear: DLA is skipped with a note
    bool noted = false;
    for (const auto& line : a.summary) noted |= line.find("DLA skipped") != std::string::npos;
    CHECK(noted);

    Result u = run_builtin("head_attribution", m, prompts, {{"metric", "kl"}, {"parts", "ablation"}, {"ablation", "uniform"}});
    const HeadGrid& gu = grid(u, "ablation_effect");
    for (size_t i = 0; i < uniform_kl.size(); ++i) CHECK(gu.values[i] == Approx(uniform_kl[i]).margin(1e-6));
}

TEST_CASE("head_intervention: pattern edits, KL and flips equal an independent computation", "[head_intervention][intervention_engine]") {
    TempDir tmp;
    LoadedModel m = load_model(model_dir("tiny-world"));
    const std::vector<TokenizedPrompt> prompts = tokenized(m, first_prompts(tmp, "ioi", 5));
    Result r = run_builtin("head_intervention", m, prompts, {{"heads", "L2H1,L3H0"}, {"edit", "pattern:identity@0.8"}});
    const std::vector<HeadEdit> edits = {parse_head_edit("L2H1=pattern:identity@0.8"), parse_head_edit("L3H0=pattern:identity@0.8")};
    const auto hooks = edit_hooks(edits, m.model->config().n_layers, m.model->config().n_heads);
    const Table& t = table(r, "per_prompt");
    torch::NoGradGuard no_grad;
    size_t flipped = 0;
    for (size_t i = 0; i < prompts.size(); ++i) {
        torch::Tensor before = torch::log_softmax(m.model->forward(tokens_of(prompts[i].ids))[0][-1].to(torch::kDouble), -1);
        torch::Tensor after = torch::log_softmax(m.model->run_with_hooks(tokens_of(prompts[i].ids), hooks)[0][-1].to(torch::kDouble), -1);
        const double kl = (before.exp() * (before - after)).sum().item<double>();
        CHECK(std::get<double>(t.rows[i][12]) == Approx(kl).margin(1e-9));
        const bool flip = after.argmax().item<int64_t>() == prompts[i].alternative_id;
        flipped += flip;
        CHECK(std::get<int64_t>(t.rows[i][13]) == (flip ? 1 : 0));
    }
    bool line = false;
    for (const auto& s : r.summary) line |= s.find(fmt::format("flips to the alternative on {} of {}", flipped, prompts.size())) != std::string::npos;
    CHECK(line);
}

TEST_CASE("head_search on induction-2l with objective=accuracy picks the circuit head whose ablation breaks most prompts",
          "[head_search][intervention_engine]") {
    TempDir tmp;
    LoadedModel m = load_model(model_dir("induction-2l"));
    const std::vector<TokenizedPrompt> prompts = tokenized(m, first_prompts(tmp, "induction", 12));
    Result r = run_builtin("head_search", m, prompts, {{"objective", "accuracy"}, {"edit", "zero"}, {"k", "2"}});
    const Table& steps = table(r, "steps");
    REQUIRE(!steps.rows.empty());
    const Spectrum& curve = item<Spectrum>(r, "objective_curve");
    CHECK(curve.series[0].size() == steps.rows.size() + 1);
    // Step 1 against an independent count: the accuracy drop of zeroing each head by hand.
    torch::NoGradGuard no_grad;
    const ModelConfig& cfg = m.model->config();
    std::string best;
    double best_drop = -1;
    for (int l = 0; l < cfg.n_layers; ++l) {
        for (int h = 0; h < cfg.n_heads; ++h) {
            double drop = 0;
            for (const auto& p : prompts) {
                torch::Tensor t = tokens_of(p.ids);
                const bool c0 = m.model->forward(t)[0][-1].argmax().item<int64_t>() == p.answer_id;
                const bool c1 = m.model->run_with_hooks(t, {{fmt::format("blocks.{}.attn.hook_z", l), zero_head(h)}})[0][-1]
                                    .argmax()
                                    .item<int64_t>() == p.answer_id;
                drop += (static_cast<double>(c0) - static_cast<double>(c1)) / static_cast<double>(prompts.size());
            }
            if (drop > best_drop + 1e-12) best_drop = drop, best = fmt::format("L{}H{}", l, h);
        }
    }
    // The winner is one of the two circuit heads: previous-token L0H1 or induction L1H0.
    CHECK((best == "L0H1" || best == "L1H0"));
    CHECK(best_drop > 0.5);  // ablating it breaks most prompts
    CHECK(std::get<std::string>(steps.rows[0][1]) == best);
    CHECK(std::get<double>(steps.rows[0][2]) == Approx(best_drop).margin(1e-12));
    // Beam search finds a set at least as good as greedy's at every step.
    Result b = run_builtin("head_search", m, prompts, {{"objective", "kl"}, {"edit", "uniform"}, {"k", "2"}, {"beam", "3"}});
    Result g = run_builtin("head_search", m, prompts, {{"objective", "kl"}, {"edit", "uniform"}, {"k", "2"}});
    const Table &bs = table(b, "steps"), &gs = table(g, "steps");
    REQUIRE(!gs.rows.empty());
    REQUIRE(bs.rows.size() >= gs.rows.size());  // the beam holds greedy's path
    CHECK(std::get<double>(bs.rows.back()[2]) >= std::get<double>(gs.rows.back()[2]) - 1e-12);
}

TEST_CASE("eval --intervene equals head_intervention; bad specs show the grammar", "[cli][intervention_engine]") {
    TempDir tmp;
    const std::string ioi = first_prompts(tmp, "ioi", 8);
    CommandResult r = cli({"eval", "--prompts", ioi, "--intervene", "L2H1=zero", "--intervene", "3.0=zero", "--json"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    auto j = nlohmann::json::parse(r.out);
    CHECK(j["interventions"] == "L2H1=zero, L3H0=zero");
    const auto& task = j["tasks"][0];
    LoadedModel m = load_model(model_dir("tiny-world"));
    const std::vector<TokenizedPrompt> prompts = tokenized(m, ioi);
    Result hi = run_builtin("head_intervention", m, prompts, {{"heads", "L2H1,L3H0"}, {"mode", "zero"}});
    const Table& avg = table(hi, "averages");
    // rows: p(answer), logit difference, top-1 is the answer, ...; columns quantity, before, after, change
    CHECK(task["mean_logit_diff"].get<double>() == Approx(std::get<double>(avg.rows[1][1])).margin(1e-4));
    CHECK(task["edited"]["mean_logit_diff"].get<double>() == Approx(std::get<double>(avg.rows[1][2])).margin(1e-4));
    CHECK(task["accuracy"].get<double>() == Approx(std::get<double>(avg.rows[2][1])));
    CHECK(task["edited"]["accuracy"].get<double>() == Approx(std::get<double>(avg.rows[2][2])));
    CHECK(task["edited"]["mean_loss"].get<double>() > task["mean_loss"].get<double>());  // the IOI heads matter

    for (const std::string cmd : {"eval", "run", "generate", "analyze"}) {
        std::vector<std::string> args{cmd, "--intervene", "L1H4=pattern:diagonal@0.5"};
        if (cmd == "eval") args.insert(args.end(), {"--prompts", ioi});
        if (cmd == "run" || cmd == "generate") args.insert(args.end(), {"--prompt", "Hello"});
        if (cmd == "run" || cmd == "analyze") args.insert(args.end(), {"--out", tmp.file("x.h5")});
        if (cmd == "analyze") args.insert(args.end(), {"--prompt", "Hello", "--analysis", "head_detectors"});
        CommandResult bad = cli(args);
        INFO(cmd << ": " << bad.err);
        CHECK(bad.exit_code != 0);
        CHECK(bad.err.find("unknown pattern target 'diagonal'") != std::string::npos);
        CHECK(bad.err.find("HEAD=EDIT") != std::string::npos);
    }
    CommandResult missing = cli({"eval", "--prompts", ioi, "--intervene", "L9H0=zero"});
    CHECK(missing.exit_code != 0);
    CHECK(missing.err.find("L9H0 does not exist") != std::string::npos);
}

TEST_CASE("run --intervene writes the per-token loss of both runs", "[cli][intervention_engine]") {
    TempDir tmp;
    const std::string out = tmp.file("run.h5");
    const std::string prompt = "When Bob and Tom went to the park, Tom gave a ball to";
    CommandResult r = cli({"run", "--prompt", prompt, "--intervene", "L3H0=zero", "--intervene", "L2H1=pattern:uniform@0.5",
                           "--out", out});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("mean next-token loss") != std::string::npos);
    ActivationStoreReader reader(out);
    const torch::Tensor tokens = read_tensor(reader, "/tokens"), logits = read_tensor(reader, "/logits");
    const torch::Tensor loss = read_tensor(reader, "/loss"), loss_clean = read_tensor(reader, "/loss_clean");
    const int64_t T = tokens.size(1);
    REQUIRE(loss.sizes() == tokens.sizes());
    REQUIRE(loss_clean.sizes() == tokens.sizes());
    // /loss is -log softmax of the stored (edited) logits at the next token.
    torch::Tensor lp = torch::log_softmax(logits.to(torch::kDouble), -1);
    for (int64_t t = 0; t + 1 < T; ++t)
        CHECK(loss[0][t].item<double>() == Approx(-lp[0][t][tokens[0][t + 1].item<int64_t>()].item<double>()).margin(1e-5));
    CHECK(std::isnan(loss[0][T - 1].item<double>()));
    // /loss_clean is the same from an unedited forward.
    LoadedModel m = load_model(model_dir("tiny-world"));
    torch::NoGradGuard no_grad;
    torch::Tensor lp0 = torch::log_softmax(m.model->forward(tokens)[0].to(torch::kDouble), -1);
    double differs = 0;
    for (int64_t t = 0; t + 1 < T; ++t) {
        CHECK(loss_clean[0][t].item<double>() == Approx(-lp0[t][tokens[0][t + 1].item<int64_t>()].item<double>()).margin(1e-5));
        differs = std::max(differs, std::abs(loss_clean[0][t].item<double>() - loss[0][t].item<double>()));
    }
    CHECK(differs > 1e-3);
}

TEST_CASE("generate and analyze run the edited model", "[cli][intervention_engine]") {
    TempDir tmp;
    CommandResult plain = cli({"generate", "--prompt", "When Bob and Tom went to the park, Tom gave a ball to", "-n", "3", "--ids"});
    CommandResult edited = cli({"generate", "--prompt", "When Bob and Tom went to the park, Tom gave a ball to", "-n", "3", "--ids",
                                "--intervene", "L3H0=zero", "--intervene", "L2H1=zero", "--intervene", "L3H2=scale:-3"});
    REQUIRE(plain.exit_code == 0);
    REQUIRE(edited.exit_code == 0);
    CHECK(plain.out != edited.out);
    CommandResult a = cli({"analyze", "--prompts", first_prompts(tmp, "ioi", 3), "--analysis", "head_intervention", "--set",
                           "head_intervention.heads=L0H0", "--intervene", "L3H0=zero", "--out", tmp.file("a.h5")});
    INFO(a.err);
    REQUIRE(a.exit_code == 0);
    CHECK(a.out.find("with head edits L3H0=zero") != std::string::npos);
}

TEST_CASE("head_attribution prints only what was computed (no corrupted mean without corrupted parts)", "[cli][head_attribution]") {
    TempDir tmp;
    CommandResult r = cli({"analyze", "--prompts", first_prompts(tmp, "ioi", 3), "--analysis", "head_attribution", "--set",
                           "head_attribution.parts=dla,ablation", "--out", tmp.file("a.h5")});
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("corrupted prompts") == std::string::npos);
    CHECK(r.out.find("nan") == std::string::npos);
    CommandResult with = cli({"analyze", "--prompts", first_prompts(tmp, "ioi", 3), "--analysis", "head_attribution", "--set",
                              "head_attribution.parts=activation_patching", "--out", tmp.file("b.h5")});
    REQUIRE(with.exit_code == 0);
    CHECK(with.out.find("on their corrupted prompts") != std::string::npos);
    CHECK(with.out.find("nan") == std::string::npos);
}
