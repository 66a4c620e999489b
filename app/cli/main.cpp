// headscope — command-line interface to the headscope core.
#include <CLI/CLI.hpp>

#include <iostream>

#include "cli_common.hpp"
#include "headscope/error.hpp"
#include "headscope/threads.hpp"

int main(int argc, char** argv) {
    // Before any parallel region: the default thread count and the load governor (--threads
    // narrows it when a command loads its model).
    headscope::configure_threads();
    CLI::App app{"headscope — mechanistic interpretability workbench for transformer language models"};
    app.set_version_flag("--version", std::string("headscope ") + HEADSCOPE_VERSION);
    app.require_subcommand(1);
    headscope::cli::register_info(app);
    headscope::cli::register_tokenize(app);
    headscope::cli::register_generate(app);
    headscope::cli::register_run(app);
    headscope::cli::register_analyses(app);
    headscope::cli::register_analyze(app);
    headscope::cli::register_report(app);
    headscope::cli::set_command_line(argc, argv);
    headscope::cli::register_train(app);
    headscope::cli::register_eval(app);
    headscope::cli::register_prompts(app);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    } catch (const headscope::Error& e) {
        std::cerr << "headscope: error: " << e.what() << "\n";
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "headscope: unexpected error: " << e.what() << "\n";
        return 2;
    }
    return 0;
}
