#!/usr/bin/env python3
"""Independent references for head_attribution, head_intervention, attention_sinks and
head_similarity, on the random Hugging Face checkpoints hf_reference.py writes.

Written from the published definitions (GPT-2's forward, direct logit attribution through a
LayerNorm with its scale frozen, Jensen-Shannon divergence, UPGMA clustering) in float64 with
Debian's python3-torch and numpy, not from headscope's code.

usage:
  analysis_reference_b.py dla DIR IDS_JSON ANSWER ALTERNATIVE
        GPT-2 only. -> {"heads": [[..] per layer], "mlp": [..], "embed": x, "pos_embed": x,
                        "biases": x, "constant": x, "logit_diff": x}
  analysis_reference_b.py edit DIR IDS_JSON ANSWER ALTERNATIVE L.H[,L.H...] FACTOR
        GPT-2 only: scales the chosen heads' z by FACTOR at every position (0 = zero ablation).
        -> {"logit_diff": x, "p_answer": x, "logit_diff_clean": x, "p_answer_clean": x}
  analysis_reference_b.py similarity DIR IDS_JSON [IDS_JSON...]
        -> {"similarity": [[..]], "merge_distances": [..]}  (1 - JSD in bits, queries 1..T-1)
  analysis_reference_b.py sinks DIR IDS_JSON
        -> {"bos_share": [[..] per layer]}  (mean over queries q >= 1 of P[q, 0])
"""
import json
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_reference as hf  # noqa: E402  (checkpoint reading and the per-family forward passes)

torch.set_grad_enabled(False)


def gpt2_parts(t, c, ids, factors=None):
    """GPT-2 forward that keeps every residual component at every position.

    factors: {(layer, head): factor} applied to that head's z (attention-weighted values)."""
    factors = factors or {}
    d, H, L = c["n_embd"], c["n_head"], c["n_layer"]
    dh, eps, T = d // H, c["layer_norm_epsilon"], len(ids)
    embed = t["transformer.wte.weight"][ids]
    pos = t["transformer.wpe.weight"][:T]
    x = embed + pos
    heads, mlps, biases = [], [], torch.zeros(d, dtype=torch.float64)
    for l in range(L):
        p = "transformer.h.%d." % l
        a = hf.layer_norm(x, t[p + "ln_1.weight"], t[p + "ln_1.bias"], eps)
        qkv = a @ t[p + "attn.c_attn.weight"] + t[p + "attn.c_attn.bias"]
        q, k, v = [z.reshape(T, H, dh).transpose(0, 1) for z in qkv.split(d, -1)]
        scores = q @ k.transpose(-1, -2) / math.sqrt(dh)
        scores = scores.masked_fill(torch.triu(torch.ones(T, T, dtype=torch.bool), 1), float("-inf"))
        z = torch.softmax(scores, -1) @ v  # [H, T, dh]
        for (fl, fh), f in factors.items():
            if fl == l:
                z[fh] = z[fh] * f
        W_O = t[p + "attn.c_proj.weight"].reshape(H, dh, d)  # rows of c_proj are (head, d_head)
        per_head = torch.einsum("htd,hdm->htm", z, W_O)  # [H, T, d]
        heads.append(per_head)
        b_O = t[p + "attn.c_proj.bias"]
        x = x + per_head.sum(0) + b_O
        m = hf.layer_norm(x, t[p + "ln_2.weight"], t[p + "ln_2.bias"], eps)
        mlp = hf.gelu_new(m @ t[p + "mlp.c_fc.weight"] + t[p + "mlp.c_fc.bias"]) @ t[p + "mlp.c_proj.weight"]
        b_out = t[p + "mlp.c_proj.bias"]
        mlps.append(mlp)
        x = x + mlp + b_out
        biases = biases + b_O + b_out
    final = hf.layer_norm(x, t["transformer.ln_f.weight"], t["transformer.ln_f.bias"], eps)
    logits = final @ t["transformer.wte.weight"].T
    return dict(embed=embed, pos=pos, heads=heads, mlps=mlps, biases=biases, resid=x, logits=logits)


def load_gpt2(d):
    c = json.load(open(os.path.join(d, "config.json")))
    if c["model_type"] != "gpt2":
        sys.exit("this command supports gpt2 checkpoints only")
    return hf.load_dir(d), c


def cmd_dla(d, ids, answer, alternative):
    t, c = load_gpt2(d)
    r = gpt2_parts(t, c, ids)
    eps = c["layer_norm_epsilon"]
    x = r["resid"][-1]
    scale = torch.sqrt(((x - x.mean()) ** 2).mean() + eps)  # frozen from the run
    u = t["transformer.wte.weight"][answer] - t["transformer.wte.weight"][alternative]  # W_U = wte^T (tied)
    w = u * t["transformer.ln_f.weight"] / scale

    def proj(v):
        return float(((v - v.mean(-1, keepdim=True)) * w).sum(-1)) if v.dim() == 1 else ((v - v.mean(-1, keepdim=True)) @ w).tolist()

    out = {
        "heads": [proj(h[:, -1, :]) for h in r["heads"]],
        "mlp": [proj(m[-1]) for m in r["mlps"]],
        "embed": proj(r["embed"][-1]),
        "pos_embed": proj(r["pos"][-1]),
        "biases": proj(r["biases"]),
        "constant": float(t["transformer.ln_f.bias"] @ u),
        "logit_diff": float(r["logits"][-1, answer] - r["logits"][-1, alternative]),
    }
    print(json.dumps(out))


def parse_heads(text):
    out = []
    for item in text.split(","):
        l, h = item.split(".")
        out.append((int(l), int(h)))
    return out


def cmd_edit(d, ids, answer, alternative, heads, factor):
    t, c = load_gpt2(d)

    def measure(factors):
        logits = gpt2_parts(t, c, ids, factors)["logits"][-1]
        p = torch.softmax(logits, -1)
        return float(logits[answer] - logits[alternative]), float(p[answer])

    ld, pa = measure({h: factor for h in parse_heads(heads)})
    ld0, pa0 = measure({})
    print(json.dumps({"logit_diff": ld, "p_answer": pa, "logit_diff_clean": ld0, "p_answer_clean": pa0}))


def patterns_of(d, ids):
    c = json.load(open(os.path.join(d, "config.json")))
    t = hf.load_dir(d)
    _, pats = hf.FORWARD[c["model_type"]](t, c, ids)
    return np.concatenate([p.numpy() for p in pats], 0)  # [L*H, T, T]


def entropy_bits(p):
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log2(np.where(p > 0, p, 1.0)), 0.0)
    return -terms.sum(-1)


def js_similarity(P):
    """P [N, T, T] -> [N, N]: 1 - JSD (bits), mean over queries 1..T-1."""
    N = P.shape[0]
    Q = P[:, 1:, :]
    S = np.zeros((N, N))
    for a in range(N):
        for b in range(N):
            m = 0.5 * (Q[a] + Q[b])
            jsd = entropy_bits(m) - 0.5 * (entropy_bits(Q[a]) + entropy_bits(Q[b]))
            S[a, b] = 1.0 - np.clip(jsd, 0, 1).mean()
    return S


def upgma_heights(D):
    """Merge distances of average linkage, by the textbook O(N^3) procedure."""
    clusters = {i: [i] for i in range(D.shape[0])}
    heights, next_id = [], D.shape[0]
    while len(clusters) > 1:
        keys = sorted(clusters)
        best = None
        for i, a in enumerate(keys):
            for b in keys[i + 1:]:
                dist = np.mean([D[x, y] for x in clusters[a] for y in clusters[b]])
                if best is None or dist < best[0]:
                    best = (dist, a, b)
        dist, a, b = best
        heights.append(float(dist))
        clusters[next_id] = clusters.pop(a) + clusters.pop(b)
        next_id += 1
    return heights


def cmd_similarity(d, id_lists):
    S = np.mean([js_similarity(patterns_of(d, ids)) for ids in id_lists], 0)
    print(json.dumps({"similarity": S.tolist(), "merge_distances": upgma_heights(1.0 - S)}))


def cmd_sinks(d, ids):
    c = json.load(open(os.path.join(d, "config.json")))
    t = hf.load_dir(d)
    _, pats = hf.FORWARD[c["model_type"]](t, c, ids)
    print(json.dumps({"bos_share": [p[:, 1:, 0].mean(-1).tolist() for p in pats]}))


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    cmd, d = argv[1], argv[2]
    if cmd == "dla":
        cmd_dla(d, json.loads(argv[3]), int(argv[4]), int(argv[5]))
    elif cmd == "edit":
        cmd_edit(d, json.loads(argv[3]), int(argv[4]), int(argv[5]), argv[6], float(argv[7]))
    elif cmd == "similarity":
        cmd_similarity(d, [json.loads(a) for a in argv[3:]])
    elif cmd == "sinks":
        cmd_sinks(d, json.loads(argv[3]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
