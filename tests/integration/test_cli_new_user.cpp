// The CLI as a new user meets it (issue 11): a failing analysis fails the command, one positional
// argument to tokenize is the text, an --out in a folder that does not exist is handled before any
// work, and heads are named L{layer}H{head} and read in every form.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>

#include "headscope/sdk/result_store.hpp"
#include "support/cli_support.hpp"

using namespace headscope;
using namespace headscope::test;
namespace fs = std::filesystem;

namespace {
const char* kIoi = "When Mary and John went to the store, John gave a drink to";
}  // namespace

TEST_CASE("analyze exits non-zero when an analysis fails, after saving the others", "[cli][errors]") {
    TempDir tmp;
    // The built-in tiny-world model has 4 layers: head 9.0 does not exist.
    CommandResult r = cli({"analyze", "--prompt", kIoi, "--analysis", "pattern_statistics,head_intervention", "--set",
                           "head_intervention.heads=9.0", "--out", tmp.file("x.h5")});
    INFO(r.out << r.err);
    CHECK(r.exit_code != 0);
    CHECK(contains(r.err, "head_intervention"));
    CHECK(contains(r.err, "L9H0 does not exist"));
    CHECK_FALSE(contains(r.out, "does not exist"));  // the error is on stderr only
    REQUIRE(fs::exists(tmp.file("x.h5")));
    const ResultsFile saved = read_results_file(tmp.file("x.h5"));
    REQUIRE(saved.results.size() == 2);
    CHECK(saved.results[0].error.empty());  // pattern_statistics is saved
    CHECK_FALSE(saved.results[1].error.empty());

    CommandResult layers = cli({"analyze", "--prompt", kIoi, "--analysis", "attention_sinks", "--set",
                                "attention_sinks.layers=5-9", "--out", tmp.file("y.h5")});
    CHECK(layers.exit_code != 0);
    CHECK(contains(layers.err, "attention_sinks.layers"));
    CommandResult no_heads = cli({"analyze", "--prompt", kIoi, "--analysis", "head_intervention", "--out", tmp.file("z.h5")});
    CHECK(no_heads.exit_code != 0);
    CHECK(contains(no_heads.err, "head_intervention.heads"));
    // Succeeding analyses still exit 0.
    CommandResult ok = cli({"analyze", "--prompt", kIoi, "--analysis", "head_intervention", "--set",
                            "head_intervention.heads=L1H4,2.0,3:1", "--out", tmp.file("ok.h5")});
    INFO(ok.err);
    CHECK(ok.exit_code == 0);
    CHECK(contains(ok.out, "L1H4, L2H0, L3H1"));
}

TEST_CASE("tokenize with one argument tokenizes it with the default model", "[cli]") {
    CommandResult r = cli({"tokenize", "When Mary", "--json"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CommandResult explicit_model = cli({"tokenize", source_dir() + "/data/models/tiny-world", "When Mary", "--json"});
    REQUIRE(explicit_model.exit_code == 0);
    CHECK(nlohmann::json::parse(r.out) == nlohmann::json::parse(explicit_model.out));
    CHECK(nlohmann::json::parse(r.out)["ids"].size() >= 2);
    CommandResult none = cli({"tokenize"});
    CHECK(none.exit_code != 0);
    CHECK(contains(none.err, "TEXT"));
}

TEST_CASE("analyze --out in a folder that does not exist is made before any work; an impossible one fails first",
          "[cli][errors]") {
    TempDir tmp;
    // analyze: the folder is created and the results land in it.
    const std::string nested = tmp.file("new/deeper/r.h5");
    CommandResult a = cli({"analyze", "--prompt", kIoi, "--analysis", "pattern_statistics", "--out", nested, "--report",
                           tmp.file("reports/r.html")});
    INFO(a.err);
    CHECK(a.exit_code == 0);
    CHECK(fs::exists(nested));
    CHECK(fs::exists(tmp.file("reports/r.html")));
    // A path under a regular file can never be written: refused before any analysis runs.
    write_file(tmp.file("plain"), "x");
    CommandResult blocked = cli({"analyze", "--prompt", kIoi, "--analysis", "pattern_statistics", "--out",
                                 tmp.file("plain/r.h5")});
    CHECK(blocked.exit_code != 0);
    CHECK(contains(blocked.err, "--out"));
    CHECK(contains(blocked.err, tmp.file("plain")));
    CHECK_FALSE(contains(blocked.out, "=="));  // no analysis summary: nothing was computed
    // run and report too.
    CommandResult run = cli({"run", "--prompt", "a b", "--out", tmp.file("runs/one/run.h5")});
    INFO(run.err);
    CHECK(run.exit_code == 0);
    CHECK(fs::exists(tmp.file("runs/one/run.h5")));
    CommandResult run_blocked = cli({"run", "--prompt", "a b", "--out", tmp.file("plain/run.h5")});
    CHECK(run_blocked.exit_code != 0);
    CHECK(contains(run_blocked.err, "--out"));
    CommandResult report = cli({"report", nested, "--pdf", tmp.file("pdfs/r.pdf")});
    INFO(report.err);
    CHECK(report.exit_code == 0);
    CHECK(fs::exists(tmp.file("pdfs/r.pdf")));
    CommandResult report_blocked = cli({"report", nested, "--html", tmp.file("plain/r.html")});
    CHECK(report_blocked.exit_code != 0);
    CHECK(contains(report_blocked.err, "--html"));
}
