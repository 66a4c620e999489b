// Report tables: the head column stays readable however wide the other columns are, and long
// tables go to an appendix after the figures. Checked on the PDF with poppler's pdftotext.
#include <catch2/catch.hpp>

#include <numeric>

#include "headscope/report/report.hpp"
#include "report/table_layout.hpp"
#include "support/test_support.hpp"

using namespace headscope;
using namespace headscope::test;

namespace {

bool have_tool(const std::string& tool) { return run_command({"sh", "-c", "command -v " + tool}).exit_code == 0; }

HeadGrid grid(const std::string& key, const std::string& title) {
    HeadGrid g;
    g.key = key;
    g.title = title;
    g.layers = 12;
    g.heads = 14;
    g.values.assign(12 * 14, 0.1);
    return g;
}

}  // namespace

TEST_CASE("narrow table columns keep their width; wide ones share the rest", "[report]") {
    using report::fit_column_widths;
    // Fits: unchanged.
    CHECK(fit_column_widths({40, 60}, 200) == std::vector<double>{40, 60});
    // A head column of 40 next to three text columns of 300 in 500: the head column keeps 40,
    // the others share 460 equally.
    std::vector<double> w = fit_column_widths({40, 300, 300, 300}, 500);
    REQUIRE(w.size() == 4);
    CHECK(w[0] == Approx(40));
    CHECK(w[1] == Approx(460.0 / 3));
    CHECK(std::accumulate(w.begin(), w.end(), 0.0) == Approx(500));
    // 40 and 120 are within the even share (125): kept; the two 400s share the remaining 340.
    w = fit_column_widths({40, 120, 400, 400}, 500);
    CHECK(w[0] == Approx(40));
    CHECK(w[1] == Approx(120));
    CHECK(w[2] == Approx(170));
    CHECK(w[3] == Approx(170));
    // A column within the share only after others were kept counts too: share 100 keeps 30,
    // then (300 - 30) / 2 = 135 keeps 130; 500 shrinks to 140.
    w = fit_column_widths({30, 130, 500}, 300);
    CHECK(w[0] == Approx(30));
    CHECK(w[1] == Approx(130));
    CHECK(w[2] == Approx(140));
    // Nothing narrow enough: everything scales.
    w = fit_column_widths({300, 300}, 300);
    CHECK(w[0] == Approx(150));
}

TEST_CASE("the PDF shows the head column whole and puts long tables in an appendix", "[report]") {
    if (!have_tool("pdftotext")) {
        WARN("pdftotext missing (Debian package poppler-utils): skipped");
        return;
    }
    ResultsFile f;
    f.provenance.prompts = {"a b c"};
    Result r;
    r.analysis_id = "directions";
    r.analysis_title = "Directions";
    r.items.push_back(grid("before", "Grid before the table"));
    Table t;
    t.key = "token_directions";
    t.title = "Tokens per direction";
    t.columns = {"head", "direction", "reads", "writes", "more"};
    const std::string wide(60, 'w');
    for (int i = 0; i < 30; ++i)
        t.rows.push_back({"L10H" + std::to_string(10 + i % 4), static_cast<int64_t>(i), wide + "r", wide + "x", wide + "m"});
    r.items.push_back(t);
    Table short_table;
    short_table.key = "short";
    short_table.title = "Short table";
    short_table.columns = {"head", "score"};
    short_table.rows.push_back({std::string("L3H2"), 0.5});
    r.items.push_back(short_table);
    r.items.push_back(grid("after", "Grid after the table"));
    f.results.push_back(r);

    TempDir tmp;
    write_report_files(f, "", tmp.file("r.pdf"));
    CommandResult text = run_command({"pdftotext", "-layout", tmp.file("r.pdf"), "-"});
    REQUIRE(text.exit_code == 0);
    const std::string& s = text.out;
    // Every head label of the long table is printed whole, not cut to "L…".
    for (const char* head : {"L10H10", "L10H11", "L10H12", "L10H13"}) CHECK(s.find(head) != std::string::npos);
    CHECK(s.find("L1\xE2\x80\xA6") == std::string::npos);
    // The long table comes after every figure, in the appendix (its first rows); the short one stays in place.
    const size_t after = s.find("Grid after the table"), appendix = s.find("Reference material:");
    REQUIRE(after != std::string::npos);
    REQUIRE(appendix != std::string::npos);
    CHECK(appendix > after);
    CHECK(s.find("L10H10") > appendix);
    const size_t short_at = s.find("L3H2");
    REQUIRE(short_at != std::string::npos);
    CHECK(short_at < after);
    const size_t note = s.find("1 more item of this analysis: see the appendix");
    CHECK(note > after);
    CHECK(note < appendix);
    CHECK(s.find("The first 15 of 30 rows") > appendix);
}
