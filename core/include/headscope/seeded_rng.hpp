// A small seeded random number generator whose sequence is the same on every platform and
// standard library (std::uniform_int_distribution is not), so generated corpora, prompt sets
// and training runs are reproducible from a seed. SplitMix64. Torch-free, header-only.
#pragma once

#include <cstdint>
#include <string_view>
#include <stdexcept>
#include <utility>
#include <vector>

namespace headscope {

class SeededRng {
public:
    explicit SeededRng(uint64_t seed) : state_(seed ^ 0x9E3779B97F4A7C15ull) {}

    uint64_t next() {
        uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    // Uniform in [0, n) without modulo bias. n must be positive.
    uint64_t below(uint64_t n) {
        if (n == 0) throw std::invalid_argument("SeededRng::below(0)");
        const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
        uint64_t x = next();
        while (x >= limit) x = next();
        return x % n;
    }
    // Uniform integer in [lo, hi] (inclusive).
    int range(int lo, int hi) { return lo + static_cast<int>(below(static_cast<uint64_t>(hi - lo) + 1)); }
    // Uniform in [0, 1).
    double uniform() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }
    bool chance(double p) { return uniform() < p; }

    template <typename T>
    const T& pick(const std::vector<T>& items) {
        return items[static_cast<size_t>(below(items.size()))];
    }
    template <typename T>
    void shuffle(std::vector<T>& items) {
        for (size_t i = items.size(); i > 1; --i) std::swap(items[i - 1], items[static_cast<size_t>(below(i))]);
    }
    // k distinct indices from [0, n), in random order.
    std::vector<size_t> distinct(size_t n, size_t k) {
        if (k > n) throw std::invalid_argument("SeededRng::distinct: k > n");
        std::vector<size_t> all(n);
        for (size_t i = 0; i < n; ++i) all[i] = i;
        for (size_t i = 0; i < k; ++i) std::swap(all[i], all[i + static_cast<size_t>(below(n - i))]);
        all.resize(k);
        return all;
    }

private:
    uint64_t state_;
};

// FNV-1a 64-bit hash of a string: a seed-independent, platform-independent key hash (used to
// decide which task instances are held out of the training corpus).
inline uint64_t stable_hash(const std::string_view& text) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char c : text) {
        h ^= c;
        h *= 0x100000001b3ull;
    }
    return h;
}

}  // namespace headscope
