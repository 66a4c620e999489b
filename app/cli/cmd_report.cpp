// headscope report RESULTS.h5 [--html FILE] [--pdf FILE]
// Renders the report of a results file written by 'headscope analyze': no model needed.
#include <iostream>

#include <fmt/format.h>

#include "cli_common.hpp"
#include "headscope/error.hpp"
#include "headscope/report/report.hpp"

namespace headscope::cli {

namespace {
struct ReportOptions {
    std::string results;
    std::string html;
    std::string pdf;
};

void run_report(const ReportOptions& o) {
    if (o.html.empty() && o.pdf.empty())
        throw UsageError("say what to write: --html report.html and/or --pdf report.pdf");
    if (!o.html.empty()) check_output_path("--html", o.html);
    if (!o.pdf.empty()) check_output_path("--pdf", o.pdf);
    const ResultsFile results = read_results_file(o.results);
    write_report_files(results, o.html, o.pdf);
    size_t failed = 0;
    for (const auto& r : results.results) failed += r.error.empty() ? 0 : 1;
    const std::string what = fmt::format("{} analyses{}", results.results.size(),
                                         failed ? fmt::format(", {} of them failed", failed) : "");
    if (!o.html.empty()) std::cout << fmt::format("wrote {} ({})\n", o.html, what);
    if (!o.pdf.empty()) std::cout << fmt::format("wrote {} ({})\n", o.pdf, what);
}
}  // namespace

void write_report(const std::string& results_h5, const std::string& html, const std::string& pdf) {
    write_report_files(read_results_file(results_h5), html, pdf);
    if (!html.empty()) std::cout << fmt::format("wrote {}\n", html);
    if (!pdf.empty()) std::cout << fmt::format("wrote {}\n", pdf);
}

void register_report(CLI::App& app) {
    auto opts = std::make_shared<ReportOptions>();
    CLI::App* cmd = app.add_subcommand(
        "report", "render a self-contained HTML and/or PDF report from a results file (from 'headscope analyze --out')");
    cmd->add_option("results", opts->results, "results file (.h5) written by 'headscope analyze'")
        ->required()
        ->check(CLI::ExistingFile);
    cmd->add_option("--html", opts->html, "write the HTML report here (one file, no external assets)");
    cmd->add_option("--pdf", opts->pdf, "write the PDF report here");
    cmd->callback([opts] { run_report(*opts); });
}

}  // namespace headscope::cli
