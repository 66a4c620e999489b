// Catch2's main, after one setting: tests compare computations for exact equality (an edit leaves
// other heads' activations bit for bit unchanged, a resumed run equals an uninterrupted one), which
// holds for a fixed thread count. The load governor (headscope/threads.hpp) changes the thread count
// with the machine's load, and float32 results change in their last bits with it, so the tests
// (and the CLI processes they start) run with a fixed count unless a test sets it itself.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdlib>

int main(int argc, char* argv[]) {
    setenv("HEADSCOPE_ADAPTIVE_THREADS", "0", /*overwrite=*/0);
    return Catch::Session().run(argc, argv);
}
