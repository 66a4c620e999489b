// `headscope analyze` over a prompt set, interrupted with SIGINT (Ctrl+C): the analyses that
// completed before the signal stay in the results file, which is never left half-written.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "headscope/sdk/result_store.hpp"
#include "support/test_support.hpp"

using namespace headscope;
using namespace headscope::test;

TEST_CASE("headscope analyze keeps the completed analyses when interrupted", "[cli][analyze]") {
    TempDir tmp;
    const std::string out = tmp.file("results.h5"), err = tmp.file("stderr");
    const std::string prompts = source_dir() + "/data/prompts/ioi.jsonl";
    // qk_ov_svd finishes in a second; head_attribution over 200 prompts takes far longer.
    const std::vector<std::string> argv{HEADSCOPE_CLI, "analyze",  "--prompts",
                                        prompts,       "--analysis", "qk_ov_svd,head_attribution",
                                        "--out",       out};
    const pid_t pid = start_command(argv, "/dev/null", err);
    // The file appears (atomically renamed) once the first analysis is done.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(3);
    while (!std::filesystem::exists(out) && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const bool appeared = std::filesystem::exists(out);
    kill(pid, SIGINT);
    int status = 0;
    waitpid(pid, &status, 0);
    REQUIRE(appeared);
    INFO(read_file(err));
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 1);
    CHECK(read_file(err).find("completed analyses are saved in " + out) != std::string::npos);

    const ResultsFile saved = read_results_file(out);
    REQUIRE(saved.results.size() == 1);
    CHECK(saved.results[0].analysis_id == "qk_ov_svd");
    CHECK(saved.results[0].error.empty());
    CHECK_FALSE(saved.results[0].items.empty());
    // No temporary file is left next to it.
    for (const auto& entry : std::filesystem::directory_iterator(tmp.path()))
        CHECK((entry.path().filename() == "results.h5" || entry.path().filename() == "stderr"));
}
