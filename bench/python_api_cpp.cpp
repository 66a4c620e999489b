// The C++ side of bench/python_api.py: the same calls the Python benchmark times through the
// headscope package, made directly on the core, on the same checkpoint and tokens.
//
// usage: bench_python_api_cpp DIR TOKENS REPEATS THREADS HOOKS_PER_POINT
// prints JSON: median seconds of run_with_cache(every pattern), of a plain forward, and of a forward
// with HOOKS_PER_POINT pass-through C++ hooks on every hook_z.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "headscope/model_loader.hpp"

namespace {

template <class F>
double median_seconds(int repeats, F&& f) {
    f();  // warm-up
    std::vector<double> times;
    for (int i = 0; i < repeats; ++i) {
        auto t0 = std::chrono::steady_clock::now();
        f();
        times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(times.begin(), times.end());
    return times[times.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    using namespace headscope;
    if (argc != 6) {
        std::fprintf(stderr, "usage: %s DIR TOKENS REPEATS THREADS HOOKS_PER_POINT\n", argv[0]);
        return 2;
    }
    const int64_t T = std::stoll(argv[2]);
    const int repeats = std::stoi(argv[3]), threads = std::stoi(argv[4]), per_point = std::stoi(argv[5]);
    if (threads > 0) at::set_num_threads(threads);
    at::NoGradGuard no_grad;
    LoadedModel m = load_model(argv[1]);
    // The same tokens as the Python side: torch.randint(0, d_vocab, (1, T), generator seeded 1).
    at::Tensor tokens = at::randint(m.model->config().d_vocab, {1, T}, at::make_generator<at::CPUGeneratorImpl>(1), at::kLong);
    const double cached = median_seconds(repeats, [&] { m.model->run_with_cache(tokens, {"blocks.*.attn.hook_pattern"}); });
    const double plain = median_seconds(repeats, [&] { m.model->forward(tokens); });
    std::vector<HookHandle> handles;
    for (int k = 0; k < per_point; ++k)
        handles.push_back(m.model->add_hook("blocks.*.attn.hook_z",
                                            [](const at::Tensor&, const HookPoint&) { return std::optional<at::Tensor>(); }));
    const double hooked = median_seconds(repeats, [&] { m.model->forward(tokens); });
    std::printf("{\"run_with_cache\": %.6f, \"forward\": %.6f, \"hooked_z\": %.6f, \"threads\": %d}\n", cached, plain,
                hooked, at::get_num_threads());
    return 0;
}
