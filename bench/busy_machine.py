#!/usr/bin/python3
"""Benchmark: head_attribution on tiny-world's 200 IOI prompts (the main job's slowest analysis)
with one core kept busy by another process, with 1 and 2 threads, against the same runs on a quiet
machine. Prints each time and its ratio to the quiet run; the goal is that 2 threads with a busy
core are no slower than 1 thread.

  /usr/bin/python3 bench/busy_machine.py [--cli build/app/cli/headscope] [--repeats 3]
                                         [--fixed] [--fixed-timeout 900] [--main-job]

--fixed also times the runs with the load governor off (HEADSCOPE_ADAPTIVE_THREADS=0: a fixed
thread count whose OpenMP workers spin-wait, i.e. headscope before the governor); a run that takes
longer than --fixed-timeout seconds is stopped and reported as "> timeout".
--main-job also times the main job's analyze command (seven analyses, HTML + PDF report).
The "busy" process is a shell busy loop, not pinned, as a build or another user's job would be.
Nothing else should run on the machine meanwhile (the quiet runs measure it: see their ratio).
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAIN_JOB = "qk_ov_svd,composition,head_detectors,head_attribution,attention_sinks,logit_lens,head_similarity"


def timed(cmd, env, timeout):
    start = time.monotonic()
    try:
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    return time.monotonic() - start


def measure(cmd, env, repeats, timeout):
    times = []
    for _ in range(repeats):
        t = timed(cmd, env, timeout)
        if t is None:
            return None
        times.append(t)
    return statistics.median(times)


class Busy:
    """One busy-looping process for the duration of a `with` block."""

    def __enter__(self):
        self.proc = subprocess.Popen(["sh", "-c", "while :; do :; done"])
        time.sleep(0.5)
        return self

    def __exit__(self, *exc):
        self.proc.kill()
        self.proc.wait()


def fmt(t, timeout):
    return f"> {timeout:.0f} s" if t is None else f"{t:7.2f} s"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cli", default=os.path.join(ROOT, "build/app/cli/headscope"))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--fixed", action="store_true")
    ap.add_argument("--fixed-timeout", type=float, default=900)
    ap.add_argument("--main-job", action="store_true")
    a = ap.parse_args()
    if os.cpu_count() < 2:
        sys.exit("busy_machine: needs at least 2 CPUs")
    out = tempfile.mkdtemp(prefix="headscope-busy-")
    base = [a.cli, "analyze", "--prompts", os.path.join(ROOT, "data/prompts/ioi.jsonl"), "--out", os.path.join(out, "r.h5")]
    attribution = base + ["--analysis", "head_attribution"]
    adaptive = dict(os.environ, HEADSCOPE_ADAPTIVE_THREADS="1")
    fixed = dict(os.environ, HEADSCOPE_ADAPTIVE_THREADS="0")
    print(f"busy_machine: head_attribution on tiny-world, 200 IOI prompts; {os.cpu_count()} CPUs; median of {a.repeats}")

    rows = []  # (label, quiet, busy)
    for label, env, threads, timeout in [("governor, 1 thread ", adaptive, 1, None), ("governor, 2 threads", adaptive, 2, None)] + (
            [("fixed,    1 thread ", fixed, 1, a.fixed_timeout), ("fixed,    2 threads", fixed, 2, a.fixed_timeout)]
            if a.fixed else []):
        cmd = attribution + ["--threads", str(threads)]
        quiet = measure(cmd, env, a.repeats, timeout)
        with Busy():
            busy = measure(cmd, env, a.repeats if timeout is None else 1, timeout)
        rows.append((label, quiet, busy, timeout))
        print(f"  {label}: quiet {fmt(quiet, timeout)}   one core busy {fmt(busy, timeout)}"
              + (f"   busy/quiet {busy / quiet:5.2f}x" if quiet and busy else ""), flush=True)
    q1, b1 = rows[0][1], rows[0][2]
    q2, b2 = rows[1][1], rows[1][2]
    print(f"  with one core busy, 2 threads take {b2 / b1:.2f}x the time of 1 thread (goal <= 1.0)")
    print(f"  quiet: 2 threads take {q2 / q1:.2f}x the time of 1 thread")
    if a.fixed and rows[3][2] is not None:
        print(f"  before the governor (fixed 2 threads, spinning), one core busy: {rows[3][2] / b1:.1f}x the 1-thread time")
    if a.main_job:
        cmd = base + ["--analysis", MAIN_JOB, "--report", os.path.join(out, "r.html"), "--pdf", os.path.join(out, "r.pdf")]
        quiet = measure(cmd, adaptive, a.repeats, None)
        with Busy():
            busy = measure(cmd, adaptive, a.repeats, None)
        print(f"  main job (7 analyses + report, default threads): quiet {quiet:.2f} s, one core busy {busy:.2f} s "
              f"({busy / quiet:.2f}x)")


if __name__ == "__main__":
    main()
