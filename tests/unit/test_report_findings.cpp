// The Findings page of reports: top lists (HeadRole) collected across analyses, head cards, where
// items go (detail sections or appendix), and the file round trip of headlines and roles.
#include <catch2/catch.hpp>

#include <cmath>

#include "headscope/report/findings.hpp"
#include "headscope/report/report.hpp"
#include "headscope/sdk/result_helpers.hpp"
#include "headscope/sdk/result_store.hpp"
#include "report/report_sections.hpp"
#include "support/test_support.hpp"

using namespace headscope;

namespace {

HeadGrid grid(const std::string& key, const std::string& title, std::vector<double> values, Scale scale = Scale::sequential) {
    return make_head_grid(key, title, "", 2, 4, std::move(values), scale);
}

ResultsFile two_analyses() {
    ResultsFile f;
    Result det;
    det.analysis_id = "detectors";
    det.analysis_title = "Detectors";
    det.items.push_back(grid("induction", "Induction score", {0, 0.1, 0.2, 0, 0.05, 0.93, 0.61, 0.1}));
    det.items.push_back(grid("previous", "Previous-token score", {0.8, 0, 0, 0.1, 0, 0, 0, 0}));
    add_roles(det, *det.head_grid("induction"), "induction head", 3, HeadOrder::highest, 0.3);
    add_roles(det, *det.head_grid("previous"), "previous-token head", 3, HeadOrder::highest, 0.3);
    det.headline = "L1H1 is an induction head.";
    Result attr;
    attr.analysis_id = "attribution";
    attr.analysis_title = "Attribution";
    attr.items.push_back(grid("dla", "Direct logit attribution", {0, 0, 0, 0, 0.01, 0.5, -0.4, 0.02}, Scale::diverging));
    add_roles(attr, *attr.head_grid("dla"), "writes the answer", 3, HeadOrder::highest, 0.0, 0.25);
    add_roles(attr, *attr.head_grid("dla"), "suppresses the answer", 2, HeadOrder::lowest, -0.1);
    attr.headline = "Written by L1H1.";
    f.results = {det, attr};
    return f;
}

}  // namespace

TEST_CASE("add_roles keeps the top heads that pass the threshold and a share of the top", "[report][findings]") {
    Result r;
    const HeadGrid g = grid("g", "G", {0.9, 0.5, 0.2, 0.1, -0.7, 0, 0.3, 0.25}, Scale::diverging);
    auto top = add_roles(r, g, "high", 3, HeadOrder::highest, 0.25);
    REQUIRE(top.size() == 3);  // 0.9, 0.5, 0.3 (0.25 passes the threshold but is 4th)
    CHECK(head_label(top[0].head) == "L0H0");
    CHECK(head_label(top[2].head) == "L1H2");
    auto big = add_roles(r, g, "big", 5, HeadOrder::magnitude, std::nullopt, 0.5);
    REQUIRE(big.size() == 3);  // |0.9|, |-0.7|, |0.5| are at least half of 0.9
    CHECK(head_label(big[1].head) == "L1H0");
    auto low = add_roles(r, g, "low", 3, HeadOrder::lowest, 0.0);
    REQUIRE(low.size() == 2);  // -0.7 and 0 (<= 0)
    REQUIRE(r.roles.size() == 8);
    CHECK(r.roles[0].item == "g");
    CHECK(r.roles[0].value == 0.9);
    CHECK(heads_sentence(top, "{:.1f}") == "L0H0 (0.9), L0H1 (0.5) and L1H2 (0.3)");
}

TEST_CASE("collect_findings lists every head of every top list, most-named first", "[report][findings]") {
    const ResultsFile f = two_analyses();
    const Findings fi = collect_findings(f);
    REQUIRE(fi.lines.size() == 2);
    CHECK(fi.lines[0].text == "L1H1 is an induction head.");
    // Heads: L1H1 (induction 0.93, DLA 0.5: two analyses), then single-analysis heads by rank.
    std::vector<std::string> heads;
    for (const auto& h : fi.heads) heads.push_back(head_label(h.head));
    CHECK(heads == std::vector<std::string>{"L1H1", "L1H2", "L0H0"});
    CHECK(fi.heads[0].roles == std::vector<std::string>{"induction head", "writes the answer"});
    CHECK(fi.heads[0].named_by == std::vector<std::string>{"detectors", "attribution"});
    // L1H2: induction 0.61 and DLA -0.4 (suppresses).
    CHECK(fi.heads[1].roles == std::vector<std::string>{"induction head", "suppresses the answer"});
    REQUIRE(fi.measures.size() == 3);  // induction, previous, dla
    CHECK(head_value(f, fi.measures[2], HeadRef{1, 2}) == -0.4);
    CHECK(std::isnan(head_value(f, fi.measures[2], HeadRef{5, 0})));
    CHECK(card_heads(fi, 2).size() == 2);
}

TEST_CASE("results without top lists contribute their first grid's top heads", "[report][findings]") {
    ResultsFile f;
    Result old;
    old.analysis_id = "plugin";
    old.summary = {"some line"};
    old.items.push_back(grid("entropy", "Attention entropy", {1, 2, 3, 4, 5, 6, 7, 8}));
    f.results = {old};
    const Findings fi = collect_findings(f);
    REQUIRE(fi.heads.size() == 3);
    CHECK(head_label(fi.heads[0].head) == "L1H3");
    CHECK(fi.heads[0].roles[0] == "high attention entropy");
    CHECK(fi.lines[0].text == "some line");
    Result failed;
    failed.analysis_id = "broken";
    failed.error = "boom";
    f.results = {failed};
    const Findings fb = collect_findings(f);
    CHECK(fb.heads.empty());
    CHECK(fb.lines[0].failed);
    CHECK(fb.lines[0].text == "failed: boom");
}

TEST_CASE("headlines, roles and appendix marks survive the results file", "[report][findings][store]") {
    test::TempDir tmp;
    ResultsFile f = two_analyses();
    std::get<HeadGrid>(f.results[0].items[1]).appendix = true;
    write_results_file(tmp.file("r.h5"), f);
    const ResultsFile back = read_results_file(tmp.file("r.h5"));
    REQUIRE(back.results.size() == 2);
    CHECK(back.results[0].headline == f.results[0].headline);
    REQUIRE(back.results[1].roles.size() == f.results[1].roles.size());
    for (size_t i = 0; i < f.results[1].roles.size(); ++i) {
        CHECK(back.results[1].roles[i].head == f.results[1].roles[i].head);
        CHECK(back.results[1].roles[i].role == f.results[1].roles[i].role);
        CHECK(back.results[1].roles[i].item == f.results[1].roles[i].item);
        CHECK(back.results[1].roles[i].value == f.results[1].roles[i].value);
    }
    CHECK(header_of(back.results[0].items[1]).appendix);
    CHECK_FALSE(header_of(back.results[0].items[0]).appendix);
    CHECK(back.card_patterns.empty());
    // The head cards' patterns live beside the results (/findings), not among them.
    Matrix p;
    p.key = "pattern_L1H1";
    p.head = HeadRef{1, 1};
    p.rows = p.cols = 2;
    p.values = {1, 0, 0.25, 0.75};
    p.row_labels = p.col_labels = {"a", "b"};
    f.card_patterns = {p};
    write_results_file(tmp.file("p.h5"), f);
    const ResultsFile withp = read_results_file(tmp.file("p.h5"));
    REQUIRE(withp.results.size() == 2);
    REQUIRE(withp.card_patterns.size() == 1);
    CHECK(withp.card_patterns[0].values == p.values);
    REQUIRE(card_pattern(withp, HeadRef{1, 1}));
    CHECK(card_pattern(withp, HeadRef{1, 1})->col_labels == p.col_labels);
    CHECK_FALSE(card_pattern(withp, HeadRef{0, 1}));
}

TEST_CASE("series of per-head and per-prompt items go to the appendix after the first two", "[report][findings]") {
    using report::series_stem;
    CHECK(series_stem("spectrum_L0H3") == "spectrum");
    CHECK(series_stem("settling_depth_p12") == "settling_depth");
    CHECK(series_stem("attention_received_2") == "attention_received");
    CHECK(series_stem("induction_score") == "induction_score");
    CHECK(series_stem("qk_U") == "qk_U");
    CHECK(series_stem("L1H2") == "L1H2");
    Result r;
    for (int i = 0; i < 4; ++i) {
        TokenScores t;
        t.key = "depth_p" + std::to_string(i);
        r.items.push_back(t);
    }
    Table longt;
    longt.key = "long";
    longt.rows.resize(50);
    r.items.push_back(longt);
    HeadGrid g = grid("g", "G", std::vector<double>(8, 0.0));
    r.items.push_back(g);
    g.key = "ref";
    g.appendix = true;
    r.items.push_back(g);
    const auto placed = report::place_items(r);
    std::vector<bool> appendix;
    for (const auto& p : placed) appendix.push_back(p.appendix);
    CHECK(appendix == std::vector<bool>{false, false, true, true, true, false, true});
    CHECK(placed[0].series == "depth");
    CHECK(placed[0].series_size == 4);
}

TEST_CASE("the HTML report opens with the findings and the head cards", "[report][findings]") {
    ResultsFile f = two_analyses();
    const std::string html = render_html_report(f);
    const size_t findings = html.find("<section id=\"findings\">");
    const size_t cards = html.find("<section id=\"head-cards\">");
    const size_t provenance = html.find("<section id=\"provenance\">");
    REQUIRE(findings != std::string::npos);
    REQUIRE(cards != std::string::npos);
    CHECK(findings < cards);
    CHECK(cards < provenance);
    CHECK(html.find("<section") == findings);
    CHECK(html.find("data-head=\"L1H1\"") < cards);
    // The card of L1H1 shows every measure with the exact value from the grids.
    const size_t card = html.find("<div class=\"card\" id=\"card-L1H1\"");
    REQUIRE(card != std::string::npos);
    CHECK(html.find("data-item=\"induction\" data-value=\"0.93000000000000005\"", card) != std::string::npos);
    CHECK(html.find("data-item=\"dla\" data-value=\"0.5\"", card) != std::string::npos);
    // The PDF carries them on its first page.
    const std::string pdf = render_pdf_report(f);
    CHECK(pdf.find("Findings") != std::string::npos);
}
