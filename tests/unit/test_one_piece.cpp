// The pieces written once for the whole project (issue 11): the top heads of a grid and their
// names, the head a result item is about (kept through HDF5, readable by h5py), one UTF-8
// decoder, one colour map with one NaN colour, one shape and timestamp format.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <regex>

#include "headscope/colour_map.hpp"
#include "headscope/formatting.hpp"
#include "headscope/sdk/result_helpers.hpp"
#include "headscope/sdk/result_store.hpp"
#include "support/test_support.hpp"
#include "tokenizers/hf/utf8.hpp"
#include "tokenizers/utf8.hpp"

using namespace headscope;
using namespace headscope::test;

TEST_CASE("top heads of a grid: ranked, named L{layer}H{head}, NaN left out", "[sdk][heads]") {
    // 2 layers x 3 heads.
    const std::vector<double> v = {0.1, -0.9, 0.5, std::nan(""), 0.5, 0.7};
    std::vector<RankedHead> top = top_heads(v, 3, 3);
    REQUIRE(top.size() == 3);
    CHECK(top[0].head == HeadRef{1, 2});
    CHECK(top[0].value == 0.7);
    CHECK(top[1].head == HeadRef{0, 2});  // ties keep the lower layer/head first
    CHECK(top[2].head == HeadRef{1, 1});
    CHECK(top_heads(v, 3, 1, HeadOrder::lowest)[0].head == HeadRef{0, 1});
    CHECK(top_heads(v, 3, 1, HeadOrder::magnitude)[0].head == HeadRef{0, 1});
    CHECK(top_heads(v, 3, 100).size() == 5);  // the NaN cell is not ranked
    HeadGrid g = make_head_grid("g", "G", "", 2, 3, v);
    CHECK(top_heads_text(g, 2) == "L1H2 0.700, L0H2 0.500");
    CHECK(top_heads_text(g, 1, HeadOrder::magnitude, "{:+.3g}") == "L0H1 -0.9");
    CHECK(top_heads_text(g, 0).empty());
}

TEST_CASE("the head an item is about is kept through HDF5 and readable by h5py", "[results][heads]") {
    TempDir tmp;
    const std::string path = tmp.file("heads.h5");
    ResultsFile f;
    Result r;
    r.analysis_id = "demo";
    Spectrum about_head;
    about_head.key = "spectrum_L1H4";
    about_head.title = "L1H4 singular values";
    about_head.head = HeadRef{1, 4};
    about_head.series = {{3, 2, 1}};
    about_head.series_names = {"QK"};
    r.items.push_back(about_head);
    Spectrum named_like_a_head;  // a key that looks like a head is not a head reference
    named_like_a_head.key = "spectrum_L0H0";
    named_like_a_head.series = {{1}};
    named_like_a_head.series_names = {"x"};
    r.items.push_back(named_like_a_head);
    f.results.push_back(r);
    write_results_file(path, f);
    const ResultsFile back = read_results_file(path);
    REQUIRE(back.results.size() == 1);
    REQUIRE(back.results[0].items.size() == 2);
    const ItemHeader& h0 = header_of(back.results[0].items[0]);
    REQUIRE(h0.head.has_value());
    CHECK(*h0.head == HeadRef{1, 4});
    CHECK_FALSE(header_of(back.results[0].items[1]).head.has_value());

    const char* script = R"PY(
import sys, json, h5py
a = h5py.File(sys.argv[1], "r")["results/demo/spectrum_L1H4"].attrs
b = h5py.File(sys.argv[1], "r")["results/demo/spectrum_L0H0"].attrs
print(json.dumps({"head": a["head"], "layer": int(a["head_layer"]), "index": int(a["head_index"]), "other": "head" in b}))
)PY";
    CommandResult py = run_command({python(), "-c", script, path});
    INFO(py.err);
    REQUIRE(py.exit_code == 0);
    auto j = nlohmann::json::parse(py.out);
    CHECK(j["head"] == "L1H4");
    CHECK(j["layer"] == 1);
    CHECK(j["index"] == 4);
    CHECK(j["other"] == false);
}

TEST_CASE("one UTF-8 decoder: code points, stray bytes, and the HF pipeline's view of it", "[utf8]") {
    const std::string s = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xFF\xC3";  // a é € 😀, a stray byte, a cut sequence
    CHECK(utf8::decode(s) == std::vector<char32_t>{U'a', 0xE9, 0x20AC, 0x1F600, 0xFFFD, 0xFFFD});
    const utf8::Char euro = utf8::decode_at(s, 3);
    CHECK(euro.valid);
    CHECK(euro.code_point == 0x20AC);
    CHECK(euro.length == 3);
    CHECK_FALSE(utf8::decode_at("\xC0\xAF", 0).valid);        // overlong "/"
    CHECK_FALSE(utf8::decode_at("\xED\xA0\x80", 0).valid);    // a surrogate
    CHECK_FALSE(utf8::decode_at("\xF4\x90\x80\x80", 0).valid);  // past U+10FFFF
    for (char32_t cp : {U'a', char32_t{0xE9}, char32_t{0x20AC}, char32_t{0x1F600}}) {
        std::string out;
        utf8::append(out, cp);
        CHECK(utf8::decode(out) == std::vector<char32_t>{cp});
    }
    // The HF tokenizer's lenient stepping is the same decoder.
    for (size_t pos = 0; pos < s.size();) {
        const hf_tok::Utf8Char c = hf_tok::next_utf8_char(s, pos);
        const utf8::Char d = utf8::decode_at(s, pos);
        CHECK(c.length == d.length);
        CHECK(c.code_point == (d.valid ? static_cast<int32_t>(d.code_point) : hf_tok::kInvalidCodePoint));
        pos += c.length;
    }
    CHECK_FALSE(hf_tok::is_valid_utf8(s));
    CHECK(utf8::is_valid("caf\xC3\xA9"));
}

TEST_CASE("one colour map: one NaN colour, the maps' ends, the value range", "[colour]") {
    CHECK(css(nan_colour()) == "#d0d0d0");
    CHECK(colour_at(std::nan(""), Scale::sequential) == nan_colour());
    CHECK(colour_at(std::nan(""), Scale::diverging) == nan_colour());
    CHECK(colour_of(INFINITY, ValueRange{}, Scale::sequential) == nan_colour());
    CHECK(css(colour_at(0, Scale::sequential)) == "#440154");  // viridis
    CHECK(css(colour_at(1, Scale::sequential)) == "#fde725");
    CHECK(css(colour_at(0.5, Scale::diverging)) == "#f7f7f7");  // white at 0
    CHECK(css(colour_at(0, Scale::diverging)) == "#2166ac");    // blue = negative
    const ValueRange signed_range = value_range({-0.5, 2.0, std::nan("")}, Scale::diverging);
    CHECK(signed_range.lo == -2.0);
    CHECK(signed_range.hi == 2.0);
    const ValueRange seq = value_range({0.2, 0.8}, Scale::sequential);
    CHECK(seq.lo == 0.0);
    CHECK(seq.hi == 0.8);
}

TEST_CASE("one shape format and one UTC timestamp format", "[formatting]") {
    CHECK(shape_string({512, 64}) == "[512, 64]");
    CHECK(shape_string({}) == "[]");
    CHECK(std::regex_match(utc_timestamp(), std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")));
}
