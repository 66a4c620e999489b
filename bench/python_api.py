#!/usr/bin/python3
"""The headscope Python package against the same calls in C++ and a PyTorch-eager peer.

On a GPT-2-small-shaped random checkpoint (12 x 768, 12 heads, vocab 50257; written once by
tests/reference/hf_reference.py), 256 tokens, float32, the same threads everywhere:
  1. run_with_cache of every attention pattern: from Python (headscope.Model.run_with_cache) vs the
     same call in C++ (build/bench/bench_python_api_cpp) -> Python overhead (goal <= 5 %), and vs
     the PyTorch-Python eager peer with forward hooks caching every pattern (bench/python_peer.py,
     goal >= 1.0x);
  2. a Python hook on every blocks.L.attn.hook_z: the cost of one hook call, measured between
     consecutive calls of --hooks-per-point hooks on each point (they run back to back), and by
     the difference of forward times (next to the same number of C++ pass-through hooks).

usage: PYTHONPATH=build/python /usr/bin/python3 bench/python_api.py [--build build] [--tokens 256]
       [--repeats 10] [--threads N] [--hooks-per-point 200] [--rounds 2]
Prints figures and ratios; asserts nothing.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def median_seconds(repeats, f):
    f()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--tokens", type=int, default=256)
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--hooks-per-point", type=int, default=200)
    p.add_argument("--rounds", type=int, default=2,
                   help="C++ and Python timings alternate this many times; each side's best median is kept "
                        "(a shared machine's load then biases neither side)")
    a = p.parse_args()
    sys.path.insert(0, os.path.join(a.build, "python"))
    import headscope

    if a.threads > 0:
        torch.set_num_threads(a.threads)
    threads = torch.get_num_threads()
    torch.set_grad_enabled(False)
    folder = os.path.join(a.build, "bench-cache", "gpt2-small-random")
    if not os.path.exists(os.path.join(folder, "config.json")):
        subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "tests", "reference", "hf_reference.py"), "write", "gpt2",
                        folder, "--seed", "1", "--d-model", "768", "--layers", "12", "--heads", "12", "--vocab", "50257",
                        "--ctx", "1024"], check=True)
    T, R, K = a.tokens, a.repeats, a.hooks_per_point

    def run_cpp():
        return json.loads(subprocess.run([os.path.join(a.build, "bench", "bench_python_api_cpp"), folder, str(T),
                                          str(R), str(threads), str(K)], check=True, capture_output=True,
                                         text=True).stdout)

    def run_peer():
        return json.loads(subprocess.run(["/usr/bin/python3", os.path.join(HERE, "python_peer.py"), folder, str(T), str(R),
                                          str(threads)], check=True, capture_output=True, text=True).stdout)["seconds"]

    m = headscope.load(folder)
    tokens = torch.randint(0, m.cfg.d_vocab, (1, T), generator=torch.Generator().manual_seed(1))
    stamps = []

    def noop(z, hook):
        stamps.append((hook.name, time.perf_counter()))

    # Every figure is measured in each round, in the same order; each keeps its best round.
    cpp, py_cached, py_plain, py_hooked, peer = None, *([float("inf")] * 4)
    for _ in range(max(1, a.rounds)):
        c = run_cpp()
        cpp = c if cpp is None else {k: min(cpp[k], c[k]) for k in c}
        py_cached = min(py_cached, median_seconds(R, lambda: m.run_with_cache(tokens, names_filter="blocks.*.attn.hook_pattern")))
        py_plain = min(py_plain, median_seconds(R, lambda: m(tokens)))
        stamps.clear()
        with m.hooks([("blocks.*.attn.hook_z", noop)] * K):
            py_hooked = min(py_hooked, median_seconds(R, lambda: m(tokens)))
        peer = min(peer, run_peer())
    per_forward = len(stamps) // (R + 1)
    # The K hooks of one point run back to back: the time from one call's start to the next's is the
    # whole cost of a call (C++ -> GIL -> torch.Tensor wrap -> Python call -> result check).
    gaps = [b[1] - a[1] for a, b in zip(stamps, stamps[1:]) if a[0] == b[0]]
    direct = statistics.median(gaps)

    print(f"GPT-2-small-shaped random checkpoint (12 x 768, vocab 50257), {T} tokens, float32, {threads} threads, "
          f"best of {a.rounds} alternating rounds of a median of {R}")
    print("run_with_cache of every attention pattern:")
    print(f"  headscope from Python           {py_cached * 1e3:8.2f} ms  {T / py_cached:8.1f} tokens/s")
    print(f"  headscope from C++              {cpp['run_with_cache'] * 1e3:8.2f} ms  {T / cpp['run_with_cache']:8.1f} tokens/s")
    print(f"  PyTorch-Python eager + hooks    {peer * 1e3:8.2f} ms  {T / peer:8.1f} tokens/s")
    print(f"  Python overhead vs C++: {100 * (py_cached / cpp['run_with_cache'] - 1):+.1f} % (goal <= 5 %)")
    print(f"  ratio headscope-from-Python / peer = {peer / py_cached:.2f}x (goal >= 1.0x)")
    print(f"a hook on every hook_z ({K} per point, {per_forward} calls per forward):")
    py_call = (py_hooked - py_plain) / per_forward
    cpp_call = (cpp["hooked_z"] - cpp["forward"]) / (12 * K)
    print(f"  Python hook: {direct * 1e6:.2f} us per call, measured between consecutive calls (goal <= 20 us)")
    print(f"  forward {py_plain * 1e3:.2f} ms -> {py_hooked * 1e3:.2f} ms with the Python hooks: "
          f"{py_call * 1e6:.2f} us per call by difference (within the timing noise)")
    print(f"  forward {cpp['forward'] * 1e3:.2f} ms -> {cpp['hooked_z'] * 1e3:.2f} ms with as many C++ hooks: "
          f"{cpp_call * 1e6:.2f} us per call by difference")


if __name__ == "__main__":
    main()
