// The default thread count and the load governor's arithmetic (headscope/cpu_budget.hpp), on
// cgroup and /proc/stat text written here.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "headscope/cpu_budget.hpp"
#include "support/test_support.hpp"

using namespace headscope;

namespace {
void write(const std::filesystem::path& p, const std::string& text) {
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << text;
}
}  // namespace

TEST_CASE("cgroup v2 cpu.max reads as CPUs", "[threads]") {
    CHECK(parse_cgroup_cpu_max("max 100000\n") == 0);
    CHECK(parse_cgroup_cpu_max("150000 100000\n") == Approx(1.5));
    CHECK(parse_cgroup_cpu_max("50000 100000") == Approx(0.5));
    CHECK(parse_cgroup_cpu_max("") == 0);
    CHECK(parse_cgroup_cpu_max("garbage") == 0);
}

TEST_CASE("the cgroup quota is the tightest of the process's cgroup and its parents", "[threads]") {
    test::TempDir tmp;
    const std::string root = tmp.file("cgroup");
    // v2: /sys/fs/cgroup/a/b with 3 CPUs, its parent a with 1.5.
    write(root + "/a/cpu.max", "150000 100000\n");
    write(root + "/a/b/cpu.max", "300000 100000\n");
    CHECK(cgroup_cpu_quota("0::/a/b\n", root) == Approx(1.5));
    CHECK(cgroup_cpu_quota("0::/a\n", root) == Approx(1.5));
    CHECK(cgroup_cpu_quota("0::/elsewhere\n", root) == 0);
    // v1: the cpu controller's cfs quota and period.
    write(root + "/cpu,cpuacct/job/cpu.cfs_quota_us", "200000\n");
    write(root + "/cpu,cpuacct/job/cpu.cfs_period_us", "100000\n");
    CHECK(cgroup_cpu_quota("4:memory:/job\n3:cpu,cpuacct:/job\n", root) == Approx(2.0));
    write(root + "/cpu,cpuacct/free/cpu.cfs_quota_us", "-1\n");
    write(root + "/cpu,cpuacct/free/cpu.cfs_period_us", "100000\n");
    CHECK(cgroup_cpu_quota("3:cpu,cpuacct:/free\n", root) == 0);
}

TEST_CASE("the default thread count follows affinity, quota and ranks on the node", "[threads]") {
    CHECK(budget_threads(2, 2, 0, 1) == 2);   // the whole machine
    CHECK(budget_threads(2, 1, 0, 1) == 1);   // taskset -c 0
    CHECK(budget_threads(16, 16, 1.5, 1) == 2);  // a 1.5-CPU quota: 2 threads
    CHECK(budget_threads(16, 16, 0.5, 1) == 1);
    CHECK(budget_threads(16, 16, 0, 4) == 4);  // 4 unbound MPI ranks share 16 CPUs
    CHECK(budget_threads(16, 4, 0, 4) == 4);   // bound ranks: their own mask
    CHECK(budget_threads(2, 2, 0, 3) == 1);    // never 0
    // This process: at least one thread, no more than the CPUs it may use.
    const CpuBudget b = cpu_budget();
    CHECK(b.threads >= 1);
    CHECK(b.threads <= b.allowed);
    CHECK(static_cast<int>(b.cpus.size()) == b.allowed);
}

TEST_CASE("/proc/stat busy time counts user, nice, system, irq, softirq and steal of the chosen CPUs", "[threads]") {
    const std::string stat =
        "cpu  100 5 50 1000 7 1 2 3 0 0\n"
        "cpu0 60 5 30 500 7 1 1 2 0 0\n"
        "cpu1 40 0 20 500 0 0 1 1 0 0\n"
        "intr 12345\n";
    CHECK(cpu_busy_seconds(stat, {0}, 100) == Approx((60 + 5 + 30 + 1 + 1 + 2) / 100.0));
    CHECK(cpu_busy_seconds(stat, {0, 1}, 100) == Approx((99 + 62) / 100.0));
    CHECK(cpu_busy_seconds(stat, {7}, 100) < 0);  // no such CPU
    CHECK(cpu_busy_seconds("", {0}, 100) < 0);
    CHECK(cpu_busy_seconds(std::vector<int>{0}) >= 0);  // this machine's /proc/stat
}

TEST_CASE("the governor runs on the CPUs other processes leave free", "[threads]") {
    CHECK(threads_for_load(2, 0.02, 2) == 2);  // quiet
    CHECK(threads_for_load(2, 0.69, 2) == 1);  // one core kept busy, measured while we spin on both
    CHECK(threads_for_load(2, 1.0, 2) == 1);
    CHECK(threads_for_load(2, 0.4, 2) == 2);   // a light load does not take a core away
    CHECK(threads_for_load(2, 1.9, 2) == 1);   // never fewer than one
    CHECK(threads_for_load(8, 3.2, 8) == 5);
    CHECK(threads_for_load(8, 0, 4) == 4);     // never more than the maximum
}
