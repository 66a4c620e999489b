// Catch2's main, after two settings. Tests compare computations for exact equality (an edit leaves
// other heads' activations bit for bit unchanged, a resumed run equals an uninterrupted one), which
// holds for a fixed thread count; the load governor (headscope/threads.hpp) changes the count with
// the machine's load, and float32 results change in their last bits with it. And ctest runs tests
// side by side (-j with the number of CPUs), so each test process and the CLI processes it starts
// use one thread: no OpenMP worker waits for a core another test holds. Tests of the thread budget
// set their own environment.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdlib>

int main(int argc, char* argv[]) {
    setenv("HEADSCOPE_ADAPTIVE_THREADS", "0", /*overwrite=*/0);
    setenv("HEADSCOPE_THREADS", "1", /*overwrite=*/0);
    return Catch::Session().run(argc, argv);
}
