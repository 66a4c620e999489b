// How many CPU threads this process should use, and whether other processes are using its CPUs
// right now. Torch-free: read from Linux (sched_getaffinity, cgroup cpu.max, /proc/stat) and the
// environment of MPI/SLURM launchers. headscope/threads.hpp applies it to LibTorch.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace headscope {

struct CpuBudget {
    int online = 1;         // CPUs of the machine
    int allowed = 1;        // CPUs in this process's affinity mask (taskset, MPI binding, cpuset)
    double quota = 0;       // cgroup CPU quota in CPUs (cpu.max / cfs_quota_us); 0 = none
    int local_ranks = 1;    // ranks of an MPI/SLURM job on this node (1 outside MPI)
    std::vector<int> cpus;  // the allowed CPU ids
    int threads = 1;        // the default thread count: see budget_threads, or HEADSCOPE_THREADS when set
    bool from_env = false;  // threads came from HEADSCOPE_THREADS
    // One line for people: "2 threads: 2 of 2 CPUs allowed".
    std::string explain() const;
};

// The default thread count: the allowed CPUs, capped by the cgroup quota (rounded up); when the
// affinity mask is the whole machine (nobody bound the ranks) and several ranks share the node,
// each rank takes its share of them. At least 1.
int budget_threads(int online, int allowed, double quota, int local_ranks);

// The budget of this process now. HEADSCOPE_THREADS=N (a positive integer) replaces the default
// thread count (as OMP_NUM_THREADS would for an OpenMP program); an explicit --threads still wins.
CpuBudget cpu_budget();

// cgroup v2 "cpu.max" text ("max 100000", "150000 100000") -> CPUs (0 = no quota).
double parse_cgroup_cpu_max(const std::string& text);
// The quota of the cgroup named in `proc_self_cgroup` (text of /proc/self/cgroup) under
// `cgroup_root` (normally /sys/fs/cgroup), v2 or v1; the tightest of the cgroup and its parents.
double cgroup_cpu_quota(const std::string& proc_self_cgroup, const std::string& cgroup_root);

// Busy time of some CPUs from /proc/stat (user+nice+system+irq+softirq+steal), in seconds.
// Negative when /proc/stat cannot be read.
double cpu_busy_seconds(const std::vector<int>& cpus);
double cpu_busy_seconds(const std::string& proc_stat_text, const std::vector<int>& cpus, double ticks_per_second);

// The thread count for the next interval: the CPUs not used by other processes (allowed minus
// what others used, rounded to the nearest CPU), between 1 and max_threads.
int threads_for_load(double allowed_cpus, double others_cpus, int max_threads);

}  // namespace headscope
