#!/usr/bin/python3
"""bench/load: an 8B-shaped Llama checkpoint (Llama-3-8B: 32 layers, d_model 4096, 32 heads, 8 kv
heads, d_mlp 14336, vocab 128256; bf16, random weights) through headscope and through a zero-copy
mmap PyTorch-Python peer (bench/load_peer.py), in the same run. Prints `info` time, load time, time
to first logits for a 16-token prompt and peak RSS, for float32 and bfloat16 compute, with ratios.

usage: bench/load.py BUILD_DIR [--layers N] [--keep]
  The checkpoint is generated once and cached under BUILD_DIR/bench-cache/llama8b-L<N>/
  (--layers N writes the first N layers only; 32 is the full 16 GB model). Each measurement runs
  in a fresh process, so its peak RSS is its own.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PY = "/usr/bin/python3"


def run_json(argv):
    r = subprocess.run(argv, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("failed: %s\n%s" % (" ".join(argv), r.stderr))
    return json.loads(r.stdout.strip().splitlines()[-1])


def drop_cache_hint(path):
    # Not measured cold: the first run pages the file in; every configuration reads it warm.
    subprocess.run(["cat", path], stdout=subprocess.DEVNULL)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("build")
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--keep", action="store_true", help="keep the generated checkpoint")
    a = p.parse_args()
    cache = os.path.join(a.build, "bench-cache", "llama8b-L%d" % a.layers)
    st = os.path.join(cache, "model.safetensors")
    if not os.path.exists(st):
        t = time.perf_counter()
        subprocess.run([PY, os.path.join(ROOT, "tests", "tools", "llama_checkpoint.py"), "--out", cache,
                        "--format", "hf", "--dtype", "bf16", "--shape", "8b", "--layers", str(a.layers)],
                       check=True, stdout=subprocess.DEVNULL)
        print("generated %s in %.0f s" % (cache, time.perf_counter() - t))
    size = os.path.getsize(st)
    print("checkpoint: %d layers, %.2f GiB (bf16)" % (a.layers, size / 2**30))
    drop_cache_hint(st)

    cli = os.path.join(a.build, "app", "cli", "headscope")
    t = time.perf_counter()
    subprocess.run([cli, "info", cache], check=True, stdout=subprocess.DEVNULL)
    info_s = time.perf_counter() - t
    print("headscope info: %.3f s" % info_s)

    rows = []
    for dtype in ("float32", "bfloat16"):
        hs = run_json([os.path.join(a.build, "bench", "bench_load"), cache, dtype])
        peer = run_json([PY, os.path.join(HERE, "load_peer.py"), cache, dtype])
        rows.append((dtype, hs, peer))
        print("  %s: headscope %s | matmul %s" % (dtype, hs["policy"], hs["matmul"]))
    print()
    print("%-9s %-10s %8s %12s %10s %10s" % ("compute", "who", "load s", "1st logits s", "peak GiB", "peak/file"))
    for dtype, hs, peer in rows:
        for who, r in (("headscope", hs), ("peer", peer)):
            print("%-9s %-10s %8.2f %12.2f %10.2f %10.2f" % (dtype, who, r["load_s"], r["first_logits_s"],
                                                          r["peak_rss_bytes"] / 2**30, r["peak_rss_bytes"] / size))
        total_hs = hs["load_s"] + hs["first_logits_s"]
        total_peer = peer["load_s"] + peer["first_logits_s"]
        print("%-9s ratio load+first logits headscope/peer = %.2f (%.2f s vs %.2f s); checksums %.4g / %.4g" % (
            dtype, total_hs / total_peer, total_hs, total_peer, hs["checksum"], peer["checksum"]))
    if not a.keep and a.layers >= 16:
        shutil.rmtree(cache)
        print("removed %s" % cache)


if __name__ == "__main__":
    main()
