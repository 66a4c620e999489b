#include "headscope/cpu_budget.hpp"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace headscope {

namespace {

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    if (!in) return {};
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// Ranks of this job on this node, from the launchers' environment (OpenMPI, MPICH/Hydra, SLURM).
int local_rank_count() {
    for (const char* name : {"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "SLURM_NTASKS_PER_NODE"}) {
        const char* v = std::getenv(name);
        if (!v || !*v) continue;
        char* end = nullptr;
        const long n = std::strtol(v, &end, 10);  // SLURM may say "2(x3)": the leading number
        if (end != v && n >= 1) return static_cast<int>(std::min(n, 1L << 16));
    }
    return 1;
}

// The cgroup path of one hierarchy line "id:controllers:path"; empty when the line is another's.
std::string cgroup_path_of(const std::string& line, const std::string& controller) {
    const size_t a = line.find(':'), b = a == std::string::npos ? a : line.find(':', a + 1);
    if (b == std::string::npos) return {};
    const std::string controllers = line.substr(a + 1, b - a - 1);
    if (controller.empty() ? !controllers.empty() : ("," + controllers + ",").find("," + controller + ",") == std::string::npos)
        return {};
    return line.substr(b + 1);
}

// The tightest quota of `path` and its parents, reading `quota_of(dir)` at each level.
template <class F>
double tightest(const std::string& root, std::string path, F quota_of) {
    double best = 0;
    for (;;) {
        const double q = quota_of(root + (path == "/" ? "" : path));
        if (q > 0) best = best > 0 ? std::min(best, q) : q;
        if (path.empty() || path == "/") break;
        const size_t slash = path.find_last_of('/');
        path = slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
    }
    return best;
}

}  // namespace

int budget_threads(int online, int allowed, double quota, int local_ranks) {
    double n = std::max(1, allowed);
    // An unbound rank (its mask is the whole machine) shares the node with the other ranks.
    if (local_ranks > 1 && allowed >= online) n = std::floor(n / local_ranks);
    if (quota > 0) n = std::min(n, std::ceil(quota - 1e-9));
    return std::max(1, static_cast<int>(n));
}

double parse_cgroup_cpu_max(const std::string& text) {
    std::istringstream in(text);
    std::string quota;
    double period = 0;
    if (!(in >> quota) || quota == "max") return 0;
    if (!(in >> period) || period <= 0) period = 100000;
    char* end = nullptr;
    const double q = std::strtod(quota.c_str(), &end);
    if (end == quota.c_str() || q <= 0) return 0;
    return q / period;
}

double cgroup_cpu_quota(const std::string& proc_self_cgroup, const std::string& cgroup_root) {
    std::istringstream lines(proc_self_cgroup);
    std::string line;
    double best = 0;
    auto take = [&](double q) {
        if (q > 0) best = best > 0 ? std::min(best, q) : q;
    };
    while (std::getline(lines, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.rfind("0::", 0) == 0) {  // cgroup v2
            take(tightest(cgroup_root, cgroup_path_of(line, ""),
                          [](const std::string& dir) { return parse_cgroup_cpu_max(read_text(dir + "/cpu.max")); }));
            continue;
        }
        const std::string v1 = cgroup_path_of(line, "cpu");
        if (v1.empty()) continue;
        for (const char* mount : {"/cpu,cpuacct", "/cpu", "/cpuacct,cpu"}) {
            take(tightest(cgroup_root + mount, v1, [](const std::string& dir) {
                const std::string q = read_text(dir + "/cpu.cfs_quota_us"), p = read_text(dir + "/cpu.cfs_period_us");
                if (q.empty() || p.empty()) return 0.0;
                const double quota = std::atof(q.c_str()), period = std::atof(p.c_str());
                return quota > 0 && period > 0 ? quota / period : 0.0;
            }));
        }
    }
    return best;
}

CpuBudget cpu_budget() {
    CpuBudget b;
    b.online = std::max(1L, sysconf(_SC_NPROCESSORS_ONLN));
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) == 0) {
        for (int c = 0; c < CPU_SETSIZE; ++c)
            if (CPU_ISSET(c, &set)) b.cpus.push_back(c);
    }
    if (b.cpus.empty())
        for (int c = 0; c < b.online; ++c) b.cpus.push_back(c);
    b.allowed = static_cast<int>(b.cpus.size());
    b.quota = cgroup_cpu_quota(read_text("/proc/self/cgroup"), "/sys/fs/cgroup");
    b.local_ranks = local_rank_count();
    b.threads = budget_threads(b.online, b.allowed, b.quota, b.local_ranks);
    if (const char* env = std::getenv("HEADSCOPE_THREADS"); env && *env) {
        char* end = nullptr;
        const long n = std::strtol(env, &end, 10);
        if (end != env && *end == '\0' && n >= 1 && n <= 4096) {
            b.threads = static_cast<int>(n);
            b.from_env = true;
        }
    }
    return b;
}

std::string CpuBudget::explain() const {
    std::string s = fmt::format("{} thread{}: {}{} of {} CPUs allowed", threads, threads == 1 ? "" : "s",
                                from_env ? "HEADSCOPE_THREADS; " : "", allowed, online);
    if (quota > 0) s += fmt::format(", cgroup quota {:.3g} CPUs", quota);
    if (local_ranks > 1) s += fmt::format(", {} ranks on this node", local_ranks);
    return s;
}

double cpu_busy_seconds(const std::string& text, const std::vector<int>& cpus, double ticks_per_second) {
    if (text.empty() || ticks_per_second <= 0) return -1;
    std::istringstream lines(text);
    std::string line;
    double ticks = 0;
    bool any = false;
    while (std::getline(lines, line)) {
        if (line.size() < 4 || line.compare(0, 3, "cpu") != 0 || !std::isdigit(static_cast<unsigned char>(line[3]))) continue;
        std::istringstream f(line.substr(3));
        int id = -1;
        f >> id;
        if (std::find(cpus.begin(), cpus.end(), id) == cpus.end()) continue;
        // user nice system idle iowait irq softirq steal
        double v[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        for (double& x : v) f >> x;
        ticks += v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
        any = true;
    }
    return any ? ticks / ticks_per_second : -1;
}

double cpu_busy_seconds(const std::vector<int>& cpus) {
    return cpu_busy_seconds(read_text("/proc/stat"), cpus, static_cast<double>(sysconf(_SC_CLK_TCK)));
}

int threads_for_load(double allowed_cpus, double others_cpus, int max_threads) {
    const double free = allowed_cpus - std::max(0.0, others_cpus);
    const int n = static_cast<int>(std::floor(free + 0.5));
    return std::clamp(n, 1, std::max(1, max_threads));
}

}  // namespace headscope
