#!/usr/bin/env python3
"""Checks the example plugin's attention_entropy results against numpy.

Usage: check_attention_entropy.py CACHE.h5 RESULTS.h5 FIRST_QUERY NORMALIZED(true|false)

CACHE.h5 comes from `headscope run --cache 'blocks.*.attn.hook_pattern'` (datasets
/activations/blocks.L.attn.hook_pattern, [1, H, T, T]); RESULTS.h5 from `headscope analyze
--analysis attention_entropy` on the same prompt (/results/attention_entropy/entropy and
/mean_distance, [layers, heads]). For each head, over query positions q >= FIRST_QUERY:
entropy = mean_q -sum_k p log p (divided by log(q+1) when normalized), distance =
mean_q sum_k p (q - k). Exits non-zero on a mismatch.
"""
import sys

import h5py
import numpy as np

cache_path, results_path, first_query, normalized = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "true"
with h5py.File(cache_path, "r") as f:
    layers = sorted(int(name.split(".")[1]) for name in f["activations"] if name.endswith("attn.hook_pattern"))
    patterns = [np.asarray(f["activations"][f"blocks.{l}.attn.hook_pattern"], dtype=np.float64)[0] for l in layers]
with h5py.File(results_path, "r") as f:
    got_entropy = np.asarray(f["results/attention_entropy/entropy"])
    got_distance = np.asarray(f["results/attention_entropy/mean_distance"])
    assert f["results/attention_entropy"].attrs["error"] in ("", b""), f["results/attention_entropy"].attrs["error"]

want_entropy, want_distance = [], []
for p in patterns:  # [H, T, T]
    H, T, _ = p.shape
    ent = np.zeros(H)
    dist = np.zeros(H)
    for q in range(first_query, T):
        row = p[:, q, : q + 1]  # keys 0..q
        with np.errstate(divide="ignore", invalid="ignore"):
            h = -np.where(row > 0, row * np.log(row), 0.0).sum(-1)
        if normalized:
            h = h / np.log(q + 1) if q > 0 else np.zeros(H)
        ent += h
        dist += (row * (q - np.arange(q + 1))).sum(-1)
    want_entropy.append(ent / (T - first_query))
    want_distance.append(dist / (T - first_query))
want_entropy, want_distance = np.array(want_entropy), np.array(want_distance)

ok = True
for name, got, want in (("entropy", got_entropy, want_entropy), ("mean_distance", got_distance, want_distance)):
    if got.shape != want.shape:
        print(f"FAIL {name}: shape {got.shape}, expected {want.shape}")
        ok = False
        continue
    err = np.abs(got - want).max()
    print(f"{name}: {got.shape[0]}x{got.shape[1]} heads, max |difference| {err:.3g} (values {want.min():.3f}..{want.max():.3f})")
    if not np.allclose(got, want, rtol=1e-6, atol=1e-7):
        print(f"FAIL {name}:\n got {got}\n want {want}")
        ok = False
# The patterns are not trivial: heads differ, so the check can tell a wrong computation apart.
if want_entropy.std() < 1e-3:
    print("FAIL: degenerate patterns")
    ok = False
sys.exit(0 if ok else 1)
