#!/usr/bin/env python3
"""Independent per-head probes of a llama2.c checkpoint, in plain numpy (for the GUI tests).

Builds on tests/reference/llama2c_reference.py (its loader, RMSNorm and rotary), running the
same token-by-token forward but recording one head's attention pattern, or scaling one head's
output z (its attention-weighted values, before W_O) by a factor.

usage: llama2c_head_probe.py MODEL.bin pattern IDS_JSON LAYER HEAD
       llama2c_head_probe.py MODEL.bin probs IDS_JSON LAYER HEAD FACTOR
Prints JSON: {"pattern": [[...] per query, T keys each]} or {"probs": [...] at the last position}.
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
from llama2c_reference import load, rmsnorm, rope  # noqa: E402


def run(m, ids, probe_layer, probe_head, factor=1.0):
    hs, nh, nkv = m["hs"], m["n_heads"], m["n_kv"]
    group = nh // nkv
    T = len(ids)
    keys = [[] for _ in range(m["n_layers"])]
    values = [[] for _ in range(m["n_layers"])]
    pattern = np.zeros((T, T))
    logits = None
    for pos, tok in enumerate(ids):
        x = m["emb"][tok].copy()
        for l in range(m["n_layers"]):
            xb = rmsnorm(x, m["rms_att"][l])
            q = rope(m["wq"][l] @ xb, pos, hs)
            k = rope(m["wk"][l] @ xb, pos, hs)
            v = m["wv"][l] @ xb
            keys[l].append(k)
            values[l].append(v)
            z = np.zeros(nh * hs)
            for h in range(nh):
                kvh = h // group
                ks = np.array([kk[kvh * hs:(kvh + 1) * hs] for kk in keys[l]])
                vs = np.array([vv[kvh * hs:(kvh + 1) * hs] for vv in values[l]])
                scores = ks @ q[h * hs:(h + 1) * hs] / np.sqrt(hs)
                p = np.exp(scores - scores.max())
                p /= p.sum()
                zh = p @ vs
                if l == probe_layer and h == probe_head:
                    pattern[pos, :pos + 1] = p
                    zh = zh * factor
                z[h * hs:(h + 1) * hs] = zh
            x = x + m["wo"][l] @ z
            xb = rmsnorm(x, m["rms_ffn"][l])
            h1 = m["w1"][l] @ xb
            h3 = m["w3"][l] @ xb
            x = x + m["w2"][l] @ (h1 / (1.0 + np.exp(-h1)) * h3)
        logits = m["wcls"] @ rmsnorm(x, m["rms_final"])
    return pattern, logits


def main():
    model = load(sys.argv[1])
    mode = sys.argv[2]
    ids = json.loads(sys.argv[3])
    layer, head = int(sys.argv[4]), int(sys.argv[5])
    if mode == "pattern":
        pattern, _ = run(model, ids, layer, head)
        json.dump({"pattern": pattern.tolist()}, sys.stdout)
    elif mode == "probs":
        _, logits = run(model, ids, layer, head, float(sys.argv[6]))
        p = np.exp(logits - logits.max())
        json.dump({"probs": (p / p.sum()).tolist()}, sys.stdout)
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
