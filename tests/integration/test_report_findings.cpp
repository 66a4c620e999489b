// The main job's report (the seven built-in analyses on tiny-world's IOI prompts) opens with its
// findings: checked against the results file by an independent reader (h5py, Python's HTML
// parser, poppler), and the PDF stays a short document with nothing drawn over a page edge.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <signal.h>
#include <algorithm>
#include <sys/wait.h>

#include "headscope/report/findings.hpp"
#include "headscope/sdk/result_store.hpp"
#include "support/cli_support.hpp"

using namespace headscope;
using namespace headscope::test;

TEST_CASE("the main job's report opens with findings that match its results", "[report][findings][cli]") {
    TempDir tmp;
    const std::string h5 = tmp.file("ioi.h5"), html = tmp.file("ioi.html"), pdf = tmp.file("ioi.pdf");
    CommandResult run = cli({"analyze", "--prompts", source_dir() + "/data/prompts/ioi.jsonl", "--analysis",
                             "qk_ov_svd,composition,head_detectors,head_attribution,attention_sinks,logit_lens,head_similarity",
                             "--out", h5, "--report", html, "--pdf", pdf});
    INFO(run.out << run.err);
    REQUIRE(run.exit_code == 0);
    CHECK(contains(run.out, "wrote " + h5 + " (7 analyses)"));

    // Every analysis has a headline and the head cards' patterns are stored with the results.
    const ResultsFile results = read_results_file(h5);
    REQUIRE(results.results.size() == 7);
    for (const Result& r : results.results) {
        INFO(r.analysis_id);
        CHECK_FALSE(r.headline.empty());
    }
    const Findings findings = collect_findings(results);
    REQUIRE(findings.heads.size() >= 4);
    CHECK(results.card_patterns.size() == card_heads(findings).size());
    for (const HeadRef& h : card_heads(findings)) {
        const Matrix* p = card_pattern(results, h);
        REQUIRE(p);
        // A causal attention pattern: each query row sums to 1 over keys at or before it.
        for (int q = 0; q < p->rows; ++q) {
            double sum = 0, future = 0;
            for (int k = 0; k < p->cols; ++k) (k <= q ? sum : future) += p->values[static_cast<size_t>(q * p->cols + k)];
            CHECK(sum == Approx(1).margin(1e-5));
            CHECK(future == 0);
        }
    }
    bool attribution = false;
    for (const FindingHead& h : findings.heads)
        for (const std::string& role : h.roles) attribution |= contains(role, "(DLA)");
    CHECK(attribution);

    CommandResult check = run_command({python(), source_dir() + "/tests/tools/check_report_findings.py", h5, html, pdf,
                                       "--max-pages", "25"});
    INFO(check.out << check.err);
    CHECK(check.exit_code == 0);
    const nlohmann::json j = nlohmann::json::parse(check.out);
    CHECK(j["card_values_checked"].get<int>() >= 8);
    CHECK(j["pdf_pages"].get<int>() <= 25);

    // Re-rendered from the .h5 alone: the same files.
    CommandResult again = cli({"report", h5, "--html", tmp.file("again.html"), "--pdf", tmp.file("again.pdf")});
    REQUIRE(again.exit_code == 0);
    CHECK(read_file(tmp.file("again.html")) == read_file(html));
    CHECK(read_file(tmp.file("again.pdf")) == read_file(pdf));
}

TEST_CASE("the findings name induction-2l's heads by their known roles", "[report][findings][cli]") {
    // induction-2l was trained to have a previous-token head (L0H1) and an induction head (L1H0).
    TempDir tmp;
    CommandResult run = cli({"analyze", source_dir() + "/data/models/induction-2l", "--prompts",
                             source_dir() + "/data/prompts/induction.jsonl", "--analysis", "head_detectors,head_attribution",
                             "--set", "head_attribution.parts=dla,ablation", "--out", tmp.file("r.h5"), "--report",
                             tmp.file("r.html")});
    INFO(run.out << run.err);
    REQUIRE(run.exit_code == 0);
    const ResultsFile results = read_results_file(tmp.file("r.h5"));
    const Findings f = collect_findings(results);
    REQUIRE(f.heads.size() >= 2);
    auto roles_of = [&](const std::string& head) {
        for (const FindingHead& h : f.heads)
            if (head_label(h.head) == head) return h.roles;
        return std::vector<std::string>{};
    };
    const auto l1h0 = roles_of("L1H0"), l0h1 = roles_of("L0H1");
    CHECK(std::find(l1h0.begin(), l1h0.end(), "induction head") != l1h0.end());
    CHECK(std::find(l0h1.begin(), l0h1.end(), "previous-token head") != l0h1.end());
    // Zero-ablating the induction head breaks the task: it is the head attribution needs most.
    CHECK(std::find(l1h0.begin(), l1h0.end(), "needed (mean ablation lowers the answer)") != l1h0.end());
    // The two named heads lead the table, and both get a card with their pattern.
    CHECK(head_label(f.heads[0].head) == "L1H0");
    REQUIRE(card_pattern(results, HeadRef{1, 0}));
    REQUIRE(card_pattern(results, HeadRef{0, 1}));
    CommandResult check =
        run_command({python(), source_dir() + "/tests/tools/check_report_findings.py", tmp.file("r.h5"), tmp.file("r.html")});
    INFO(check.out << check.err);
    CHECK(check.exit_code == 0);
}

TEST_CASE("the default thread count follows the CPUs the process may use", "[threads][cli]") {
    if (run_command({"sh", "-c", "command -v taskset"}).exit_code != 0) {
        WARN("taskset is not installed: skipped");
        return;
    }
    TempDir tmp;
    // Without the test suite's HEADSCOPE_THREADS=1 (tests/catch_main.cpp): the default itself.
    CommandResult one = run_command({"env", "-u", "HEADSCOPE_THREADS", "taskset", "-c", "0", HEADSCOPE_CLI, "run", "--prompt", "When Mary and John",
                                     "--out", tmp.file("a.h5"), "--verbose"});
    INFO(one.err);
    REQUIRE(one.exit_code == 0);
    CHECK(contains(one.err, "headscope: 1 thread (at most 1; 1 thread: 1 of "));
    // --threads is a maximum: the governor still runs on the one CPU it may use.
    CommandResult capped = run_command({"env", "-u", "HEADSCOPE_THREADS", "HEADSCOPE_ADAPTIVE_THREADS=0", "taskset", "-c", "0", HEADSCOPE_CLI, "run",
                                        "--prompt", "When Mary and John", "--out", tmp.file("b.h5"), "--verbose", "--threads", "3"});
    INFO(capped.err);
    REQUIRE(capped.exit_code == 0);
    CHECK(contains(capped.err, "headscope: 3 threads (at most 3; 1 thread: 1 of "));
    // HEADSCOPE_THREADS replaces the default (as OMP_NUM_THREADS would); --threads still wins.
    CommandResult env = run_command({"env", "HEADSCOPE_THREADS=2", "HEADSCOPE_ADAPTIVE_THREADS=0", HEADSCOPE_CLI, "run",
                                     "--prompt", "When Mary and John", "--out", tmp.file("c.h5"), "--verbose"});
    REQUIRE(env.exit_code == 0);
    CHECK(contains(env.err, "headscope: 2 threads (at most 2; 2 threads: HEADSCOPE_THREADS; "));
}

TEST_CASE("with another process on one of its two CPUs, the governor drops to one thread", "[threads][cli]") {
    if (run_command({"sh", "-c", "command -v taskset && [ $(nproc --all) -ge 2 ]"}).exit_code != 0) {
        WARN("needs taskset and two CPUs: skipped");
        return;
    }
    TempDir tmp;
    // A busy loop on CPU 1; headscope may use CPUs 0 and 1.
    const pid_t busy = start_command({"taskset", "-c", "1", "sh", "-c", "while :; do :; done"}, tmp.file("busy.out"),
                                     tmp.file("busy.err"));
    CommandResult r = run_command({"env", "-u", "HEADSCOPE_THREADS", "HEADSCOPE_ADAPTIVE_THREADS=1", "taskset", "-c", "0,1", HEADSCOPE_CLI, "analyze",
                                   "--prompts", source_dir() + "/data/prompts/ioi.jsonl", "--analysis", "head_attribution",
                                   "--set", "head_attribution.parts=dla,ablation", "--out", tmp.file("a.h5"), "--threads", "2",
                                   "--verbose"});
    kill(busy, SIGKILL);
    waitpid(busy, nullptr, 0);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(contains(r.err, "headscope: 2 threads (adaptive, at most 2;"));
    CHECK(contains(r.err, "headscope: threads 2 -> 1 (other processes used"));
}
