// The one place that decides how many CPU threads LibTorch (and OpenBLAS through it) uses.
//
// The default follows the CPUs this process may use (affinity mask, cgroup quota, MPI/SLURM ranks
// sharing the node: headscope/cpu_budget.hpp). On top of it a governor keeps threads from being a
// trap on a busy machine: OpenMP workers spin while they wait for each other, so a worker that
// shares its core with another process turns every parallel region into a wait for the
// scheduler (measured: head_attribution on tiny-world 2.8 s with 1 thread, 450 s with 2 threads
// while another process kept one core busy). Every ~0.2 s of computing, the governor measures
// how much of the allowed CPUs other processes used (/proc/stat minus this process's CPU time)
// and runs on the free ones only, between 1 and the configured maximum; it lowers the count at
// once and raises it after two quiet intervals. Spinning stays on, so a quiet machine keeps the
// full speed of active waiting (passive waiting costs ~45% there).
//
// Entry points call configure_threads() before their first parallel region (the CLI at start and
// for --threads, the GUI's engine thread, the Python module); the forward calls poll_threads()
// before every layer, so plugins and long runs adapt without doing anything.
// HEADSCOPE_ADAPTIVE_THREADS=0 turns the governor off (a fixed count).
#pragma once

#include <string>

namespace headscope {

// At most `requested` threads (0: the default of cpu_budget()); applied to the calling thread now.
void configure_threads(int requested = 0);

// Applies the current decision to the calling thread and, at most every ~0.2 s, re-measures the
// load. Cheap (a clock read) between measurements. Configures the default on first use.
void poll_threads();

int current_threads();  // the governor's current decision
int max_threads();      // the configured maximum
bool threads_adaptive();
// "2 threads (adaptive, at most 2; 2 of 2 CPUs allowed)".
std::string threads_text();
// Print every change of the thread count to stderr (the CLI's --verbose).
void set_threads_log(bool on);

}  // namespace headscope
