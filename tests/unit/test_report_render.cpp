// Reports rendered from a results file: checked with independent tools (Python's HTML parser,
// xmllint, poppler's pdftotext/pdfinfo, Python's zlib) rather than against headscope's own output.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <regex>

#include "headscope/error.hpp"
#include "headscope/report/report.hpp"
#include "report/pdf_document.hpp"
#include "report/png_encoder.hpp"
#include "report/report_summary.hpp"
#include "report/report_text.hpp"
#include "support/test_support.hpp"
#include "unit/test_report_sample.hpp"

using namespace headscope;
using namespace headscope::test;
namespace fs = std::filesystem;

namespace {

bool have_tool(const std::string& tool) { return run_command({"sh", "-c", "command -v " + tool}).exit_code == 0; }

nlohmann::json check_html(const std::string& path) {
    CommandResult r = run_command({python(), source_dir() + "/tests/tools/check_report_html.py", path});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return nlohmann::json::parse(r.out);
}

bool contains(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

}  // namespace

TEST_CASE("report text is escaped and cleaned for HTML", "[report]") {
    using report::html_escape;
    CHECK(html_escape("<script>alert('x')</script>") == "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
    CHECK(html_escape("\"onerror=a & b") == "&quot;onerror=a &amp; b");
    CHECK(html_escape("caf\xC3\xA9") == "caf\xC3\xA9");  // valid UTF-8 passes through
    CHECK(html_escape("a\xFF" "b") == "a\xEF\xBF\xBD" "b");  // a lone byte becomes U+FFFD
    CHECK(html_escape("\xC3") == "\xEF\xBF\xBD");  // a truncated sequence too
    CHECK(html_escape("\xC0\xAF") == "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong "/" is not decoded
    CHECK(html_escape(std::string("a\0b", 3)) == "a\xE2\x90\x80" "b");  // NUL -> U+2400 (not allowed in HTML)
    CHECK(html_escape("x\ny\tz") == "x\ny\tz");
    CHECK(report::token_display("\n") == "\xE2\x86\xB5");
    CHECK(report::token_display("") == "\xE2\x88\x85");
    CHECK(report::truncate_text("abcdef", 4) == "abc\xE2\x80\xA6");
    CHECK(report::format_number(0.93) == "0.93");
    CHECK(report::format_number(-0.0) == "0");
    CHECK(report::format_number(std::nan("")) == "NaN");
    CHECK(report::format_number(123456.0) == "1.235e+05");
}

TEST_CASE("head grid findings name the top heads in words", "[report]") {
    ResultsFile f = sample_results(8);
    const HeadGrid& g = std::get<HeadGrid>(f.results[0].items[0]);
    auto lines = report::head_grid_findings(g);
    REQUIRE(!lines.empty());
    CHECK(lines[0] == "L1H4 has the highest induction score (0.93); next are L1H1 (0.61), L0H4 (0.2), L1H6 (0.2).");
    const HeadGrid& d = std::get<HeadGrid>(f.results[1].items[0]);
    // numpy: v = 2 sin(0.7 i), i = 0..15: argmax 11 (1.9763), argmin 7 (-1.9649).
    auto signed_lines = report::head_grid_findings(d, 0);
    REQUIRE(signed_lines.size() == 2);
    CHECK(signed_lines[0] == "L1H3 has the highest direct logit attribution (1.98).");
    CHECK(signed_lines[1] == "L0H7 has the most negative direct logit attribution (-1.96).");
}

TEST_CASE("the PNG encoder writes images other decoders read", "[report]") {
    std::vector<uint8_t> rgb;
    for (int i = 0; i < 3 * 70000 / 3 * 3; ++i) rgb.push_back(static_cast<uint8_t>((i * 7) % 251));
    const int w = 350, h = 200;  // 210000 bytes of pixels: several stored deflate blocks
    rgb.resize(static_cast<size_t>(w) * h * 3);
    TempDir tmp;
    write_file(tmp.file("x.png"), report::encode_png_rgb(w, h, rgb));
    write_file(tmp.file("x.rgb"), std::string(rgb.begin(), rgb.end()));
    // Decode with Python's zlib and check every CRC and pixel.
    const std::string script = R"PY(
import struct, sys, zlib
data = open(sys.argv[1], 'rb').read()
assert data[:8] == b'\x89PNG\r\n\x1a\n'
pos, idat, ihdr = 8, b'', None
while pos < len(data):
    n, kind = struct.unpack('>I4s', data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    crc, = struct.unpack('>I', data[pos + 8 + n:pos + 12 + n])
    assert zlib.crc32(kind + body) == crc, kind
    if kind == b'IHDR': ihdr = struct.unpack('>IIBBBBB', body)
    if kind == b'IDAT': idat += body
    pos += 12 + n
w, h = ihdr[0], ihdr[1]
raw = zlib.decompress(idat)
rows = b''.join(raw[y * (3 * w + 1) + 1:(y + 1) * (3 * w + 1)] for y in range(h))
assert all(raw[y * (3 * w + 1)] == 0 for y in range(h))
assert rows == open(sys.argv[2], 'rb').read()
print(w, h)
)PY";
    write_file(tmp.file("check.py"), script);
    CommandResult r = run_command({python(), tmp.file("check.py"), tmp.file("x.png"), tmp.file("x.rgb")});
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out == "350 200\n");
    CHECK(report::base64_encode("Man") == "TWFu");
    CHECK(report::base64_encode("Ma") == "TWE=");
    CHECK(report::base64_encode("M") == "TQ==");
    CHECK_THROWS_AS(report::encode_png_rgb(2, 2, rgb), UsageError);
}

TEST_CASE("the PDF writer produces files poppler reads", "[report]") {
    if (!have_tool("pdftotext") || !have_tool("pdfinfo")) {
        WARN("pdftotext/pdfinfo missing (Debian package poppler-utils): skipped");
        return;
    }
    report::PdfDocument doc;
    doc.set_title("A (test) title \\ with caf\xC3\xA9");
    doc.set_creation_date("2024-05-01T12:34:56Z");
    doc.text(50, 60, "Hello (PDF) \\ world caf\xC3\xA9 \xE2\x80\x94 \xE2\x82\xAC" "5", 14);
    doc.fill_rect(50, 80, 100, 20, {255, 0, 0});
    doc.image(50, 120, 40, 40, 2, 2, {255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255});
    doc.new_page();
    doc.text(50, 60, "Second page", 12, report::Font::bold);
    doc.text(300, 300, "Vertical", 12, report::Font::mono, {0, 0, 0}, report::Anchor::end, true);
    TempDir tmp;
    write_file(tmp.file("a.pdf"), doc.finish());
    CommandResult info = run_command({"pdfinfo", tmp.file("a.pdf")});
    INFO(info.err);
    CHECK(info.exit_code == 0);
    CHECK(info.err.empty());  // no syntax errors, no xref reconstruction
    CHECK(std::regex_search(info.out, std::regex("Pages: +2\n")));
    CHECK(contains(info.out, "A (test) title \\ with caf\xC3\xA9"));
    CommandResult text = run_command({"pdftotext", "-layout", tmp.file("a.pdf"), "-"});
    CHECK(text.err.empty());
    CHECK(contains(text.out, "Hello (PDF) \\ world caf\xC3\xA9 \xE2\x80\x94 \xE2\x82\xAC" "5"));
    CHECK(contains(text.out, "Second page"));
}

TEST_CASE("a report renders every analysis of a results file, escaped, deterministically", "[report]") {
    TempDir tmp;
    const ResultsFile original = sample_results();
    write_results_file(tmp.file("results.h5"), original);
    render_report_files(tmp.file("results.h5"), tmp.file("report.html"), tmp.file("report.pdf"));
    const std::string html = read_file(tmp.file("report.html"));

    SECTION("the HTML parses and holds every analysis") {
        nlohmann::json j = check_html(tmp.file("report.html"));
        INFO(j["problems"].dump());
        CHECK(j["balanced"] == true);
        CHECK(j["title"] == "headscope report: stories260K.bin");
        auto ids = j["section_ids"].get<std::vector<std::string>>();
        for (const Result& r : original.results) {
            bool found = false;
            for (const auto& id : ids) found = found || id.find(r.analysis_id) != std::string::npos;
            CHECK(found);
        }
        const std::string text = j["text"];
        for (const Result& r : original.results) CHECK(contains(text, r.analysis_title));
        CHECK(contains(text, "L1H4 has the highest induction score (0.93)"));
        CHECK(contains(text, "boom: <script>alert('err')</script>"));  // the failed analysis's error, as text
        CHECK(contains(text, "9d4f6a0b0f2d3b17a1c2e3f4a5b6c7d8e9f00112233445566778899aabbccdd"));
        CHECK(contains(text, "2024-05-01T12:34:56Z"));
        CHECK(contains(text, "min_distance=2"));
        CHECK(j["svg"].get<int>() >= 6);  // grids, pattern, legend, spectrum, graph, raster
        CHECK(j["images"].get<int>() == 1);  // the 600x600 pattern as a raster
    }
    SECTION("hostile text shows as text and runs nothing") {
        nlohmann::json j = check_html(tmp.file("report.html"));
        CHECK(j["scripts"] == 0);
        CHECK(j["event_attributes"].empty());
        CHECK(j["external_refs"].empty());  // self-contained: only data: URIs and #anchors
        const std::string text = j["text"];
        CHECK(contains(text, kHostilePrompt));
        CHECK(contains(text, "<td>evil</td>"));
        CHECK(!contains(html, "<script"));
        CHECK(!contains(html, "<img"));
        CHECK(!contains(html, "<b>"));
        CHECK(!contains(html, "<i>"));
    }
    SECTION("xmllint reads the report as well-formed markup") {
        if (!have_tool("xmllint")) {
            WARN("xmllint missing (Debian package libxml2-utils): skipped");
            return;
        }
        CommandResult r = run_command({"xmllint", "--noout", "--nonet", tmp.file("report.html")});
        INFO(r.err);
        CHECK(r.exit_code == 0);
        CHECK(r.err.empty());
    }
    SECTION("the PDF shows the title and every analysis") {
        if (!have_tool("pdftotext")) {
            WARN("pdftotext missing (Debian package poppler-utils): skipped");
            return;
        }
        CommandResult r = run_command({"pdftotext", tmp.file("report.pdf"), "-"});
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        CHECK(r.err.empty());
        CHECK(contains(r.out, "headscope report: stories260K.bin"));
        for (const Result& res : original.results) CHECK(contains(r.out, res.analysis_id));
        CHECK(contains(r.out, "L1H4 has the highest induction score (0.93)"));
        CHECK(contains(r.out, "<script>alert('pwned')</script>"));
        CHECK(contains(r.out, "This analysis failed"));
        CommandResult info = run_command({"pdfinfo", tmp.file("report.pdf")});
        CHECK(info.err.empty());
        CHECK(std::regex_search(info.out, std::regex("Title: +headscope report: stories260K.bin\n")));
    }
    SECTION("re-rendering from the .h5 alone gives identical bytes") {
        const std::string pdf = read_file(tmp.file("report.pdf"));
        render_report_files(tmp.file("results.h5"), tmp.file("again.html"), tmp.file("again.pdf"));
        CHECK(read_file(tmp.file("again.html")) == html);
        CHECK(read_file(tmp.file("again.pdf")) == pdf);
        // ...and the same as rendering the in-memory results the file was written from.
        CHECK(render_html_report(original) == html);
        CHECK(render_pdf_report(original) == pdf);
    }
}

TEST_CASE("report writes are atomic and leave no temporary files", "[report]") {
    TempDir tmp;
    const ResultsFile f = sample_results(8);
    write_file(tmp.file("r.html"), "old");
    write_report_files(f, tmp.file("r.html"), "");
    CHECK(read_file(tmp.file("r.html")) == render_html_report(f));
    size_t entries = 0;
    for (const auto& e : fs::directory_iterator(tmp.path())) {
        (void)e;
        ++entries;
    }
    CHECK(entries == 1);
    CHECK_THROWS_AS(write_report_files(f, tmp.file("missing/dir/r.html"), ""), IoError);
    CHECK(!fs::exists(tmp.file("missing")));
    CHECK_THROWS_AS(render_report_files(tmp.file("nope.h5"), tmp.file("x.html"), ""), Error);
    CHECK(!fs::exists(tmp.file("x.html")));
    CHECK_THROWS_AS(render_report_files(tmp.file("r.html"), "", ""), UsageError);
}

TEST_CASE("malformed items are reported in place, not drawn out of bounds", "[report]") {
    ResultsFile f = sample_results(8);
    HeadGrid bad;
    bad.key = "bad";
    bad.title = "Bad grid";
    bad.layers = 3;
    bad.heads = 3;
    bad.values = {1, 2};
    Matrix empty;
    empty.key = "empty";
    TokenScores mismatched;
    mismatched.key = "mismatched";
    mismatched.tokens = {"a", "b"};
    mismatched.scores = {1};
    f.results[0].items = {bad, empty, mismatched};
    const std::string html = render_html_report(f);
    CHECK(contains(html, "This item cannot be drawn: 2 values for 3 layers x 3 heads"));
    CHECK(contains(html, "This item cannot be drawn: the matrix is empty"));
    CHECK(contains(html, "This item cannot be drawn: 2 tokens but 1 scores"));
    CHECK(!render_pdf_report(f).empty());
}
