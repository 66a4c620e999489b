// Results written to HDF5 and read back, exactly; and readable with h5py alone.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>

#include "headscope/error.hpp"
#include "headscope/sdk/result_store.hpp"
#include "support/test_support.hpp"

using namespace headscope;
using namespace headscope::test;

namespace {
ResultsFile sample() {
    ResultsFile f;
    f.provenance.model_path = "/models/tiny <world>";
    f.provenance.model_sha256 = "ab12";
    f.provenance.model_format = "huggingface";
    f.provenance.architecture = "llama";
    f.provenance.model_facts = {{"n_layers", "2"}, {"n_heads", "3"}};
    f.provenance.prompts = {"When Mary and John went to the store,", "Café \"<script>\""};
    f.provenance.prompt_source = "data/prompts/ioi.jsonl";
    f.provenance.headscope_version = "0.1.0";
    f.provenance.created_utc = "2026-11-28T12:00:00Z";
    f.provenance.command_line = "headscope analyze";
    Result r;
    r.analysis_id = "demo";
    r.analysis_title = "Demo analysis";
    r.analysis_version = "1.2";
    r.parameters = {{"metric", "logit_diff"}, {"heads", "1.2,0.1"}};
    r.summary = {"Head 1.2 matters most (0.93)"};
    HeadGrid g;
    g.key = "score";
    g.title = "Score";
    g.description = "a score";
    g.layers = 2;
    g.heads = 3;
    g.values = {0.1, -0.2, 0.3, 1.0 / 3.0, 5e-300, -7.25};
    g.scale = Scale::diverging;
    r.items.push_back(g);
    Matrix m;
    m.key = "pattern";
    m.title = "Pattern";
    m.rows = 2;
    m.cols = 2;
    m.values = {1, 0, 0.25, 0.75};
    m.row_labels = {"<s>", " Mary"};
    m.col_labels = {"<s>", " Mary"};
    m.row_axis = "query";
    m.col_axis = "key";
    r.items.push_back(m);
    Spectrum s;
    s.key = "spectrum";
    s.title = "Spectrum";
    s.series_names = {"QK", "OV"};
    s.series = {{3, 2, 1}, {5, 0.5}};
    s.log_y = true;
    r.items.push_back(s);
    Table t;
    t.key = "top";
    t.title = "Top heads";
    t.columns = {"head", "score", "rank"};
    t.rows = {{std::string("1.2"), 0.93, int64_t{1}}, {std::string("0.1"), std::nan(""), int64_t{2}}};
    r.items.push_back(t);
    TokenScores ts;
    ts.key = "tokens";
    ts.title = "Tokens";
    ts.tokens = {"<s>", " a"};
    ts.scores = {0.9, 0.1};
    r.items.push_back(ts);
    Graph gr;
    gr.key = "graph";
    gr.title = "Graph";
    gr.nodes = {{"L0H1", "0.1", 0, 1}, {"L1H2", "1.2", 1, 2}};
    gr.edges = {{0, 1, 0.4, "K"}};
    r.items.push_back(gr);
    f.results.push_back(r);
    Result failed;
    failed.analysis_id = "broken";
    failed.analysis_title = "Broken";
    failed.error = "it threw";
    f.results.push_back(failed);
    return f;
}
}  // namespace

TEST_CASE("results round-trip through HDF5 exactly", "[results]") {
    TempDir tmp;
    const std::string path = tmp.file("results.h5");
    ResultsFile in = sample();
    write_results_file(path, in);
    ResultsFile out = read_results_file(path);
    CHECK(out.provenance.model_path == in.provenance.model_path);
    CHECK(out.provenance.prompts == in.provenance.prompts);
    CHECK(out.provenance.model_facts == in.provenance.model_facts);
    CHECK(out.provenance.created_utc == in.provenance.created_utc);
    REQUIRE(out.results.size() == 2);
    const Result& r = out.results[0];
    CHECK(r.analysis_id == "demo");
    CHECK(r.analysis_version == "1.2");
    CHECK(r.parameters == in.results[0].parameters);
    CHECK(r.summary == in.results[0].summary);
    REQUIRE(r.items.size() == 6);
    const HeadGrid* g = r.head_grid("score");
    REQUIRE(g);
    CHECK(g->values == std::get<HeadGrid>(in.results[0].items[0]).values);  // bit-exact doubles
    CHECK(g->scale == Scale::diverging);
    CHECK(g->at(1, 2) == -7.25);
    const auto& m = std::get<Matrix>(r.items[1]);
    CHECK(m.row_labels == std::vector<std::string>{"<s>", " Mary"});
    CHECK(m.values == std::vector<double>{1, 0, 0.25, 0.75});
    const auto& s = std::get<Spectrum>(r.items[2]);
    CHECK(s.series == std::vector<std::vector<double>>{{3, 2, 1}, {5, 0.5}});
    CHECK(s.log_y);
    const auto& t = std::get<Table>(r.items[3]);
    CHECK(std::get<std::string>(t.rows[0][0]) == "1.2");
    CHECK(std::get<double>(t.rows[0][1]) == 0.93);
    CHECK(std::get<int64_t>(t.rows[1][2]) == 2);
    CHECK(std::isnan(std::get<double>(t.rows[1][1])));
    CHECK(std::get<TokenScores>(r.items[4]).tokens == std::vector<std::string>{"<s>", " a"});
    const auto& gr = std::get<Graph>(r.items[5]);
    REQUIRE(gr.edges.size() == 1);
    CHECK(gr.edges[0].kind == "K");
    CHECK(gr.nodes[1].head == 2);
    CHECK(out.results[1].error == "it threw");
    CHECK(out.results[1].items.empty());
}

TEST_CASE("results files are readable by h5py without headscope", "[results]") {
    TempDir tmp;
    const std::string path = tmp.file("results.h5");
    write_results_file(path, sample());
    const char* script = R"PY(
import sys, json, h5py
f = h5py.File(sys.argv[1], "r")
g = f["results/demo/score"]
print(json.dumps({"format": f.attrs["format"], "shape": list(g.shape), "kind": g.attrs["kind"],
                  "values": g[...].reshape(-1).tolist(), "analyses": json.loads(f.attrs["analyses"])}))
)PY";
    CommandResult r = run_command({python(), "-c", script, path});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    auto j = nlohmann::json::parse(r.out);
    CHECK(j["format"] == "headscope-results");
    CHECK(j["shape"] == std::vector<int>{2, 3});
    CHECK(j["kind"] == "head_grid");
    CHECK(j["values"][3].get<double>() == 1.0 / 3.0);
    CHECK(j["analyses"] == std::vector<std::string>{"demo", "broken"});
}

TEST_CASE("reading something that is not a results file says so", "[results][errors]") {
    TempDir tmp;
    write_file(tmp.file("x.h5"), "not hdf5 at all");
    CHECK_THROWS_AS(read_results_file(tmp.file("x.h5")), FormatError);
    CHECK_THROWS_AS(read_results_file(tmp.file("missing.h5")), IoError);
}

TEST_CASE("sha256 of files matches the published test vectors", "[results]") {
    TempDir tmp;
    write_file(tmp.file("abc"), "abc");
    CHECK(sha256_of_path(tmp.file("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    write_file(tmp.file("empty"), "");
    CHECK(sha256_of_path(tmp.file("empty")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    std::string million(1000000, 'a');
    write_file(tmp.file("million"), million);
    CHECK(sha256_of_path(tmp.file("million")) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}
