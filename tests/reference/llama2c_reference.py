#!/usr/bin/env python3
"""Independent reference forward pass for llama2.c checkpoints, in plain numpy.

Written from llama2.c's run.c semantics (not from headscope's code): RMSNorm, rotary on
adjacent pairs, grouped-query attention, SwiGLU, tied classifier. Used by headscope's tests as
ground truth.

usage: llama2c_reference.py MODEL.bin logits IDS_JSON [--uniform-attention]
                            [--pattern-edit LAYER HEAD uniform|identity|previous ALPHA]
       llama2c_reference.py MODEL.bin greedy N [--start ID]
Prints JSON.
"""
import json
import struct
import sys

import numpy as np


def load(path):
    with open(path, "rb") as f:
        data = f.read()
    dim, hidden, n_layers, n_heads, n_kv, vocab, seq_len = struct.unpack("<7i", data[:28])
    shared = vocab > 0
    vocab = abs(vocab)
    hs = dim // n_heads
    w = np.frombuffer(data, dtype="<f4", offset=28).astype(np.float64)
    pos = 0

    def take(*shape):
        nonlocal pos
        n = int(np.prod(shape))
        out = w[pos:pos + n].reshape(shape)
        pos += n
        return out

    m = {"dim": dim, "hidden": hidden, "n_layers": n_layers, "n_heads": n_heads, "n_kv": n_kv,
         "vocab": vocab, "seq_len": seq_len, "hs": hs}
    m["emb"] = take(vocab, dim)
    m["rms_att"] = take(n_layers, dim)
    m["wq"] = take(n_layers, n_heads * hs, dim)
    m["wk"] = take(n_layers, n_kv * hs, dim)
    m["wv"] = take(n_layers, n_kv * hs, dim)
    m["wo"] = take(n_layers, dim, n_heads * hs)
    m["rms_ffn"] = take(n_layers, dim)
    m["w1"] = take(n_layers, hidden, dim)
    m["w2"] = take(n_layers, dim, hidden)
    m["w3"] = take(n_layers, hidden, dim)
    m["rms_final"] = take(dim)
    take(seq_len, hs // 2)  # freq_cis_real (unused: recomputed)
    take(seq_len, hs // 2)  # freq_cis_imag
    m["wcls"] = m["emb"] if shared else take(vocab, dim)
    return m


def rmsnorm(x, weight):
    return x / np.sqrt(np.mean(x * x) + 1e-5) * weight


def rope(vec, pos, hs):
    out = vec.copy()
    for i in range(0, vec.shape[0], 2):
        head_dim = i % hs
        freq = 1.0 / (10000.0 ** (head_dim / hs))
        c, s = np.cos(pos * freq), np.sin(pos * freq)
        v0, v1 = vec[i], vec[i + 1]
        out[i] = v0 * c - v1 * s
        out[i + 1] = v0 * s + v1 * c
    return out


class Runner:
    """Token-by-token forward with a KV cache, as run.c's forward() does."""

    def __init__(self, m, uniform_attention=False, pattern_edit=None):
        self.m = m
        self.uniform = uniform_attention
        self.edit = pattern_edit  # (layer, head, target, alpha): p := (1 - alpha) p + alpha target
        self.keys = [[] for _ in range(m["n_layers"])]
        self.values = [[] for _ in range(m["n_layers"])]

    def step(self, tok):
        m = self.m
        hs, nh, nkv = m["hs"], m["n_heads"], m["n_kv"]
        group = nh // nkv
        pos = len(self.keys[0])
        x = m["emb"][tok].copy()
        for l in range(m["n_layers"]):
            xb = rmsnorm(x, m["rms_att"][l])
            q = rope(m["wq"][l] @ xb, pos, hs)
            k = rope(m["wk"][l] @ xb, pos, hs)
            v = m["wv"][l] @ xb
            self.keys[l].append(k)
            self.values[l].append(v)
            att_out = np.zeros(nh * hs)
            for h in range(nh):
                kvh = h // group
                qh = q[h * hs:(h + 1) * hs]
                ks = np.array([kk[kvh * hs:(kvh + 1) * hs] for kk in self.keys[l]])
                vs = np.array([vv[kvh * hs:(kvh + 1) * hs] for vv in self.values[l]])
                if self.uniform:
                    p = np.full(pos + 1, 1.0 / (pos + 1))
                else:
                    scores = ks @ qh / np.sqrt(hs)
                    p = np.exp(scores - scores.max())
                    p /= p.sum()
                if self.edit and self.edit[0] == l and self.edit[1] == h:
                    target = np.zeros(pos + 1)
                    if self.edit[2] == "uniform":
                        target[:] = 1.0 / (pos + 1)
                    elif self.edit[2] == "identity":
                        target[pos] = 1.0
                    else:  # previous token; the first token attends to itself
                        target[max(pos - 1, 0)] = 1.0
                    p = (1.0 - self.edit[3]) * p + self.edit[3] * target
                att_out[h * hs:(h + 1) * hs] = p @ vs
            x = x + m["wo"][l] @ att_out
            xb = rmsnorm(x, m["rms_ffn"][l])
            h1 = m["w1"][l] @ xb
            h3 = m["w3"][l] @ xb
            x = x + m["w2"][l] @ (h1 / (1.0 + np.exp(-h1)) * h3)
        x = rmsnorm(x, m["rms_final"])
        return m["wcls"] @ x


def forward_all(m, ids, uniform_attention=False, pattern_edit=None):
    runner = Runner(m, uniform_attention, pattern_edit)
    return np.array([runner.step(t) for t in ids])


def greedy(m, n, start=1):
    """Greedy decoding from `start`; stops at BOS, which run.c treats as a delimiter."""
    runner = Runner(m)
    tok = start
    out = []
    for _ in range(n):
        nxt = int(np.argmax(runner.step(tok)))
        if nxt == 1:
            break
        out.append(nxt)
        tok = nxt
    return out


def main():
    model = load(sys.argv[1])
    mode = sys.argv[2]
    if mode == "logits":
        ids = json.loads(sys.argv[3])
        uniform = "--uniform-attention" in sys.argv[4:]
        edit = None
        if "--pattern-edit" in sys.argv:
            i = sys.argv.index("--pattern-edit")
            edit = (int(sys.argv[i + 1]), int(sys.argv[i + 2]), sys.argv[i + 3], float(sys.argv[i + 4]))
        logits = forward_all(model, ids, uniform, edit)
        json.dump({"logits": logits.tolist()}, sys.stdout)
    elif mode == "greedy":
        n = int(sys.argv[3])
        start = int(sys.argv[sys.argv.index("--start") + 1]) if "--start" in sys.argv else 1
        json.dump({"ids": greedy(model, n, start)}, sys.stdout)
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
