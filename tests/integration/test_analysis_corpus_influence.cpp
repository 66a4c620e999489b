// corpus_influence on induction-2l: masking the induction head L1H0 raises the loss of documents
// that repeat a word sequence far more than that of plain documents, so they rank first; the
// numbers are the documents' mean next-token losses computed here; a run restarted from a torn
// checkpoint, and a `headscope analyze` killed with SIGKILL and run again, give the same table.
#include <torch/torch.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "headscope/interventions.hpp"
#include "headscope/model_loader.hpp"
#include "headscope/sdk/result_store.hpp"
#include "headscope/seeded_rng.hpp"
#include "headscope/tutorial_tasks.hpp"
#include "support/analysis_support.hpp"
#include "support/test_support.hpp"

using namespace headscope;
using namespace headscope::test;

namespace {

std::string induction_dir() { return source_dir() + "/data/models/induction-2l"; }

// Documents alternate: even = a random word sequence said twice, odd = as many distinct words.
std::vector<std::string> make_corpus(size_t count, uint64_t seed) {
    const std::vector<std::string> words = tutorial::lexicon();
    SeededRng rng(seed);
    std::vector<std::string> docs;
    for (size_t i = 0; i < count; ++i) {
        std::vector<size_t> pick = rng.distinct(words.size(), 40);
        std::string text;
        for (size_t k = 0; k < 40; ++k) text += " " + words[pick[i % 2 == 0 ? k % 20 : k]];
        docs.push_back(text);
    }
    return docs;
}

void write_corpus(const std::string& path, const std::vector<std::string>& docs) {
    std::string out;
    for (const auto& d : docs) out += nlohmann::json{{"text", d}}.dump() + "\n";
    write_file(path, out);
}

double num(const Cell& c) { return std::holds_alternative<double>(c) ? std::get<double>(c) : static_cast<double>(std::get<int64_t>(c)); }

size_t column(const Table& t, const std::string& name) {
    auto it = std::find(t.columns.begin(), t.columns.end(), name);
    REQUIRE(it != t.columns.end());
    return static_cast<size_t>(it - t.columns.begin());
}

double mean_loss(HookedTransformer& model, const std::vector<int32_t>& ids, const std::vector<NamedHook>& hooks) {
    const torch::Tensor t = torch::tensor(std::vector<int64_t>(ids.begin(), ids.end()), torch::kLong).unsqueeze(0);
    const torch::Tensor logits = model.run_with_hooks(t, hooks)[0].to(torch::kDouble);
    double sum = 0;
    for (size_t p = 0; p + 1 < ids.size(); ++p)
        sum -= torch::log_softmax(logits[static_cast<int64_t>(p)], -1)[ids[p + 1]].item<double>();
    return sum / static_cast<double>(ids.size() - 1);
}

void same_tables(const Table& a, const Table& b) {
    REQUIRE(a.rows.size() == b.rows.size());
    for (size_t r = 0; r < a.rows.size(); ++r)
        for (const char* col : {"document", "tokens", "loss", "masked_loss", "relative_increase"}) {
            INFO("row " << r << " " << col);
            CHECK(num(a.rows[r][column(a, col)]) == Approx(num(b.rows[r][column(b, col)])).epsilon(1e-12));
        }
}

}  // namespace

TEST_CASE("corpus_influence: masking L1H0 of induction-2l ranks repeated documents first", "[corpus_influence]") {
    TempDir tmp;
    const std::vector<std::string> docs = make_corpus(20, 5);
    write_corpus(tmp.file("corpus.jsonl"), docs);
    LoadedModel m = load_model(induction_dir());
    const Result r = run_builtin("corpus_influence", m, {},
                                 {{"corpus", tmp.file("corpus.jsonl")}, {"heads", "L1H0"}, {"top_jsonl", tmp.file("top.jsonl")}});
    const Table& t = table(r, "ranked_documents");
    REQUIRE(t.rows.size() == 20);
    for (size_t i = 0; i < 10; ++i) {
        INFO("rank " << i + 1);
        CHECK(std::get<int64_t>(t.rows[i][column(t, "document")]) % 2 == 0);
    }
    // The numbers are the documents' mean losses, computed here.
    const std::vector<NamedHook> mask{zero_heads_hook(1, {0})};
    for (size_t i : {size_t{0}, size_t{10}, size_t{19}}) {
        const int64_t d = std::get<int64_t>(t.rows[i][column(t, "document")]);
        const std::vector<int32_t> ids = m.tokenizer->encode(docs[static_cast<size_t>(d)], true).ids;
        CHECK(num(t.rows[i][column(t, "tokens")]) == static_cast<double>(ids.size()));
        CHECK(num(t.rows[i][column(t, "loss")]) == Approx(mean_loss(*m.model, ids, {})).epsilon(1e-6));
        CHECK(num(t.rows[i][column(t, "masked_loss")]) == Approx(mean_loss(*m.model, ids, mask)).epsilon(1e-6));
    }
    CHECK(grid(r, "masked_heads").at(1, 0) == 1.0);
    CHECK(grid(r, "masked_heads").at(1, 1) == 0.0);
    // The top-documents JSONL: best first, with the full text.
    std::ifstream top(tmp.file("top.jsonl"));
    std::string line;
    REQUIRE(std::getline(top, line));
    const auto j = nlohmann::json::parse(line);
    CHECK(j["rank"] == 1);
    CHECK(j["text"] == docs[static_cast<size_t>(std::get<int64_t>(t.rows[0][column(t, "document")]))]);

    // Without heads, the detector picks the induction head itself.
    const Result autopick = run_builtin("corpus_influence", m, {}, {{"corpus", tmp.file("corpus.jsonl")}, {"top_n", "1"}});
    CHECK(grid(autopick, "masked_heads").at(1, 0) == 1.0);
    CHECK(grid(autopick, "selection_score").at(1, 0) > 0.8);
}

TEST_CASE("corpus_influence resumes from a torn checkpoint with the same table", "[corpus_influence]") {
    TempDir tmp;
    write_corpus(tmp.file("corpus.jsonl"), make_corpus(16, 9));
    LoadedModel m = load_model(induction_dir());
    const std::map<std::string, std::string> params{
        {"corpus", tmp.file("corpus.jsonl")}, {"heads", "L1H0"}, {"checkpoint", tmp.file("run.checkpoint.jsonl")}};
    const Result full = run_builtin("corpus_influence", m, {}, params);
    CHECK(std::filesystem::exists(tmp.file("run.top.jsonl")));
    // Keep the header and 7 documents, and half of the 8th line (as a kill mid-write leaves it).
    std::ifstream in(tmp.file("run.checkpoint.jsonl"));
    std::string kept, line;
    for (int i = 0; i < 8 && std::getline(in, line); ++i) kept += line + "\n";
    REQUIRE(std::getline(in, line));
    kept += line.substr(0, line.size() / 2);
    in.close();
    write_file(tmp.file("run.checkpoint.jsonl"), kept);

    const Result resumed = run_builtin("corpus_influence", m, {}, params);
    same_tables(table(full, "ranked_documents"), table(resumed, "ranked_documents"));
    bool said = false;
    for (const auto& s : resumed.summary) said |= s.find("7 resumed") != std::string::npos;
    CHECK(said);
    // A checkpoint of other settings is refused, not mixed in.
    std::map<std::string, std::string> other = params;
    other["heads"] = "L1H1";
    const Result refused = run_analysis(builtin_registry(), {"corpus_influence", other}, *m.model, *m.tokenizer, {},
                                        *std::make_unique<Progress>());
    CHECK_THAT(refused.error, Catch::Contains("other settings"));
}

TEST_CASE("headscope analyze --analysis corpus_influence killed and run again gives the same table",
          "[corpus_influence][cli]") {
    TempDir tmp;
    write_corpus(tmp.file("corpus.jsonl"), make_corpus(1500, 11));
    auto argv = [&](const std::string& out) {
        return std::vector<std::string>{HEADSCOPE_CLI, "analyze",      induction_dir(), "--analysis", "corpus_influence",
                                        "--set",       "corpus_influence.corpus=" + tmp.file("corpus.jsonl"),
                                        "--set",       "corpus_influence.heads=L1H0", "--out", out};
    };
    const CommandResult straight = run_command(argv(tmp.file("a.h5")));
    INFO(straight.err);
    REQUIRE(straight.exit_code == 0);

    const std::string checkpoint = tmp.file("b.corpus_influence.checkpoint.jsonl");
    const pid_t pid = start_command(argv(tmp.file("b.h5")), "/dev/null", tmp.file("b.err"));
    auto lines = [&] {
        std::ifstream f(checkpoint);
        return std::count(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>(), '\n');
    };
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(3);
    while (lines() < 100 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    REQUIRE(WIFSIGNALED(status));
    const auto done_before = lines();
    CHECK(done_before >= 100);
    CHECK(done_before < 1501);
    CHECK_FALSE(std::filesystem::exists(tmp.file("b.h5")));

    const CommandResult again = run_command(argv(tmp.file("b.h5")));
    INFO(again.err);
    REQUIRE(again.exit_code == 0);
    CHECK(again.out.find("resumed from " + checkpoint) != std::string::npos);
    const ResultsFile a = read_results_file(tmp.file("a.h5")), b = read_results_file(tmp.file("b.h5"));
    REQUIRE(a.results.size() == 1);
    REQUIRE(b.results.size() == 1);
    same_tables(std::get<Table>(*a.results[0].find("ranked_documents")), std::get<Table>(*b.results[0].find("ranked_documents")));
    CHECK(std::filesystem::exists(tmp.file("b.corpus_influence.top.jsonl")));
}
