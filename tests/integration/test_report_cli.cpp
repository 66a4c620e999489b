// `headscope report` and `headscope analyze --report`: reports of real analysis runs, checked
// with independent tools (Python's HTML parser, xmllint, poppler's pdftotext).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>

#include "headscope/sdk/result_store.hpp"
#include "support/test_support.hpp"
#include "unit/test_report_sample.hpp"

using namespace headscope;
using namespace headscope::test;
namespace fs = std::filesystem;

namespace {

CommandResult cli(std::vector<std::string> args) {
    args.insert(args.begin(), HEADSCOPE_CLI);
    return run_command(args);
}
bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }
bool have_tool(const std::string& tool) { return run_command({"sh", "-c", "command -v " + tool}).exit_code == 0; }

nlohmann::json check_html(const std::string& path) {
    CommandResult r = run_command({python(), source_dir() + "/tests/tools/check_report_html.py", path});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return nlohmann::json::parse(r.out);
}

const char* kPrompt = "Once upon a time <script>alert(1)</script> a \"onerror=alert(2) cat sat. Once upon a time a cat sat.";

}  // namespace

TEST_CASE("headscope report renders every analysis of a real run, escaped and reproducibly", "[report][cli]") {
    TempDir tmp;
    // Built-in analyses run on stories260K with a hostile prompt.
    CommandResult run = cli({"analyze", stories_bin(), "--prompt", kPrompt, "--analysis",
                             "head_detectors,attention_sinks,logit_lens,qk_ov_svd,composition", "--out", tmp.file("r.h5")});
    INFO(run.out << run.err);
    REQUIRE(run.exit_code == 0);
    const ResultsFile results = read_results_file(tmp.file("r.h5"));
    REQUIRE(results.results.size() == 5);

    CommandResult rep = cli({"report", tmp.file("r.h5"), "--html", tmp.file("report.html"), "--pdf", tmp.file("report.pdf")});
    INFO(rep.out << rep.err);
    REQUIRE(rep.exit_code == 0);
    CHECK(contains(rep.out, "wrote " + tmp.file("report.html")));
    CHECK(contains(rep.out, "wrote " + tmp.file("report.pdf")));

    nlohmann::json j = check_html(tmp.file("report.html"));
    INFO(j["problems"].dump());
    CHECK(j["balanced"] == true);
    CHECK(j["scripts"] == 0);
    CHECK(j["event_attributes"].empty());
    CHECK(j["external_refs"].empty());
    CHECK(j["title"] == "headscope report: stories260K.bin");
    const std::string text = j["text"];
    CHECK(contains(text, kPrompt));  // the hostile prompt, shown as text
    CHECK(contains(text, results.provenance.model_sha256));
    for (const Result& r : results.results) {
        INFO(r.analysis_id);
        bool section = false;
        for (const auto& id : j["section_ids"]) section = section || contains(id.get<std::string>(), r.analysis_id);
        CHECK(section);
        CHECK(contains(text, r.analysis_title));
        for (const auto& item : r.items) CHECK(contains(text, header_of(item).title));
    }
    const std::string html = read_file(tmp.file("report.html"));
    CHECK(!contains(html, "<script"));
    REQUIRE(have_tool("xmllint"));  // libxml2-utils, installed by scripts/setup.sh
    {
        CommandResult x = run_command({"xmllint", "--noout", "--nonet", tmp.file("report.html")});
        INFO(x.err);
        CHECK(x.exit_code == 0);
    }
    REQUIRE(have_tool("pdftotext"));  // poppler-utils, installed by scripts/setup.sh
    {
        CommandResult t = run_command({"pdftotext", tmp.file("report.pdf"), "-"});
        CHECK(t.exit_code == 0);
        CHECK(t.err.empty());
        CHECK(contains(t.out, "headscope report: stories260K.bin"));
        for (const Result& r : results.results) CHECK(contains(t.out, r.analysis_id));
    }
    CHECK(read_file(tmp.file("report.pdf")).rfind("%PDF-1.4", 0) == 0);

    // Re-rendering from the .h5 alone gives the same bytes.
    REQUIRE(cli({"report", tmp.file("r.h5"), "--html", tmp.file("again.html"), "--pdf", tmp.file("again.pdf")}).exit_code == 0);
    CHECK(read_file(tmp.file("again.html")) == html);
    CHECK(read_file(tmp.file("again.pdf")) == read_file(tmp.file("report.pdf")));
}

TEST_CASE("headscope analyze --report writes the same report as headscope report", "[report][cli]") {
    TempDir tmp;
    CommandResult run = cli({"analyze", stories_bin(), "--prompt", kPrompt, "--analysis", "head_detectors", "--out",
                             tmp.file("r.h5"), "--report", tmp.file("a.html"), "--pdf", tmp.file("a.pdf")});
    INFO(run.out << run.err);
    REQUIRE(run.exit_code == 0);
    REQUIRE(cli({"report", tmp.file("r.h5"), "--html", tmp.file("b.html"), "--pdf", tmp.file("b.pdf")}).exit_code == 0);
    CHECK(read_file(tmp.file("a.html")) == read_file(tmp.file("b.html")));
    CHECK(read_file(tmp.file("a.pdf")) == read_file(tmp.file("b.pdf")));
}

TEST_CASE("headscope report: usage errors say what to do", "[report][cli]") {
    TempDir tmp;
    write_results_file(tmp.file("sample.h5"), sample_results(8));
    CommandResult none = cli({"report", tmp.file("sample.h5")});
    CHECK(none.exit_code == 1);
    CHECK(contains(none.err, "--html report.html and/or --pdf report.pdf"));

    CommandResult missing = cli({"report", tmp.file("missing.h5"), "--html", tmp.file("x.html")});
    CHECK(missing.exit_code != 0);
    CHECK(contains(missing.err, "missing.h5"));
    CHECK(!fs::exists(tmp.file("x.html")));

    // A run file is HDF5 but not a results file.
    CommandResult r = cli({"run", stories_bin(), "--prompt", "Once", "--out", tmp.file("run.h5")});
    REQUIRE(r.exit_code == 0);
    CommandResult wrong = cli({"report", tmp.file("run.h5"), "--html", tmp.file("x.html")});
    CHECK(wrong.exit_code == 1);
    CHECK(contains(wrong.err, "not a headscope results file"));
    CHECK(!fs::exists(tmp.file("x.html")));

    // A folder that does not exist yet is made; one that cannot exist (under a file) is an error.
    CommandResult new_dir = cli({"report", tmp.file("sample.h5"), "--html", tmp.file("new/dir/x.html")});
    CHECK(new_dir.exit_code == 0);
    CHECK(fs::exists(tmp.file("new/dir/x.html")));
    CommandResult bad_dir = cli({"report", tmp.file("sample.h5"), "--html", tmp.file("sample.h5/x.html")});
    CHECK(bad_dir.exit_code == 1);
    CHECK(contains(bad_dir.err, "sample.h5/x.html"));

    CommandResult ok = cli({"report", tmp.file("sample.h5"), "--html", tmp.file("s.html")});
    CHECK(ok.exit_code == 0);
    CHECK(contains(ok.out, "4 analyses, 1 of them failed"));
}
