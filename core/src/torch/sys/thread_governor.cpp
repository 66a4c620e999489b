#include "headscope/threads.hpp"

#include <ATen/Parallel.h>

#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <mutex>

#include <fmt/format.h>

#include "headscope/cpu_budget.hpp"

namespace headscope {

namespace {

constexpr int64_t kIntervalNs = 200'000'000;  // re-measure at most every 0.2 s

int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
double process_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

class Governor {
public:
    void configure(int requested) {
        std::lock_guard<std::mutex> lock(mutex_);
        budget_ = cpu_budget();
        max_ = requested > 0 ? requested : budget_.threads;
        const char* env = std::getenv("HEADSCOPE_ADAPTIVE_THREADS");
        adaptive_ = !(env && (std::strcmp(env, "0") == 0 || std::strcmp(env, "off") == 0));
        allowed_ = budget_.quota > 0 ? std::min<double>(budget_.allowed, budget_.quota) : budget_.allowed;
        raise_votes_ = 0;
        set_locked(max_.load());
        sample_locked(now_ns());
        configured_.store(true);
    }

    void poll() {
        if (!configured_.load(std::memory_order_acquire)) configure(0);
        const int64_t now = now_ns();
        if (adaptive_ && max_ > 1 && now >= next_check_.load(std::memory_order_relaxed)) {
            std::unique_lock<std::mutex> lock(mutex_, std::try_to_lock);
            if (lock.owns_lock() && now >= next_check_.load(std::memory_order_relaxed)) measure_locked(now);
        }
        thread_local uint64_t applied = ~uint64_t{0};
        const uint64_t g = generation_.load(std::memory_order_acquire);
        if (applied != g) {
            at::set_num_threads(current_.load());
            applied = g;
        }
    }

    int current() const { return current_.load(); }
    int max() const { return max_; }
    bool adaptive() const { return adaptive_; }
    std::string text() {
        if (!configured_.load()) configure(0);
        std::lock_guard<std::mutex> lock(mutex_);
        return fmt::format("{} thread{} ({}at most {}; {})", current_.load(), current_.load() == 1 ? "" : "s",
                           adaptive_ && max_ > 1 ? "adaptive, " : "", max_.load(), budget_.explain());
    }
    void set_log(bool on) { log_ = on; }

private:
    void set_locked(int n) {
        current_.store(n);
        generation_.fetch_add(1, std::memory_order_release);
        at::set_num_threads(n);
    }
    void sample_locked(int64_t now) {
        last_ns_ = now;
        last_busy_ = cpu_busy_seconds(budget_.cpus);
        last_own_ = process_cpu_seconds();
        next_check_.store(now + kIntervalNs, std::memory_order_relaxed);
    }
    void measure_locked(int64_t now) {
        const double busy = cpu_busy_seconds(budget_.cpus), own = process_cpu_seconds();
        const double wall = 1e-9 * static_cast<double>(now - last_ns_);
        const bool valid = busy >= 0 && last_busy_ >= 0 && wall > 0;
        const double others = valid ? std::max(0.0, (busy - last_busy_) - (own - last_own_)) / wall : 0;
        last_ns_ = now;
        last_busy_ = busy;
        last_own_ = own;
        next_check_.store(now + kIntervalNs, std::memory_order_relaxed);
        if (!valid) return;
        const int want = threads_for_load(allowed_, others, max_.load()), have = current_.load();
        // Down at once (each interval at too many threads is expensive); up after two quiet ones.
        raise_votes_ = want > have ? raise_votes_ + 1 : 0;
        if (want < have || (want > have && raise_votes_ >= 2)) {
            if (log_)
                std::cerr << fmt::format("headscope: threads {} -> {} (other processes used {:.2f} of {:.3g} CPUs)\n", have,
                                         want, others, allowed_);
            raise_votes_ = 0;
            set_locked(want);
        }
    }

    std::mutex mutex_;
    std::atomic<bool> configured_{false};
    CpuBudget budget_;
    std::atomic<int> max_{1};
    double allowed_ = 1;
    std::atomic<bool> adaptive_{true};
    std::atomic<bool> log_{false};
    std::atomic<int> current_{1};
    std::atomic<uint64_t> generation_{0};
    std::atomic<int64_t> next_check_{0};
    int64_t last_ns_ = 0;
    double last_busy_ = -1, last_own_ = 0;
    int raise_votes_ = 0;
};

Governor& governor() {
    static Governor g;
    return g;
}

}  // namespace

void configure_threads(int requested) { governor().configure(requested); }
void poll_threads() { governor().poll(); }
int current_threads() { return governor().current(); }
int max_threads() { return governor().max(); }
bool threads_adaptive() { return governor().adaptive(); }
std::string threads_text() { return governor().text(); }
void set_threads_log(bool on) { governor().set_log(on); }

}  // namespace headscope
