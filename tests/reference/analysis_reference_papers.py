#!/usr/bin/env python3
"""Independent numpy references for the seed papers' analyses (weight_geometry, kv_low_rank,
method_agreement, head_usage, the Talking-Heads channel edit and per-component composition).

Weights are read from the checkpoint by analysis_reference_a.py's loaders (never headscope's
code); activations come as JSON written by the test from a headscope run. Every formula is
evaluated densely in float64.

usage:
  analysis_reference_papers.py geometry MODEL [--fold]
      -> {"qk_symmetry", "ov_nuclear", "ov_factored"} per head (layer-major), from dense
         M = W_Q W_K^T and OV = W_V W_O
  analysis_reference_papers.py vectors MODEL R [--fold]
      -> {"qk_U", "qk_V", "ov_U", "ov_V"}: per head the top-R singular vectors (dense SVD), [R, d],
         and "qk_S", "ov_S": the first R+1 singular values
  analysis_reference_papers.py components MODEL EDGES.json [--fold]
      -> {"contribution": [[c_1..c_dh] per edge]} with EDGES [[writer, reader, kind], ...] (flat
         head indices), c_i = s_i ||v_i^T W_B|| / (||OV_A|| ||W_B||)
  analysis_reference_papers.py agreement GRIDS.json K
      -> {"spearman", "kendall", "overlap"} between every pair of the grids (lists of numbers)
  analysis_reference_papers.py pca ACTS.json
      -> {"rank_90", "rank_95", "rank_99", "numerical_rank"}: per kv head of ACTS {"x": [T][K][dh]}
  analysis_reference_papers.py usage ACTS.json
      -> {"share" [T][H], "entropy" [T], "half" [T]} from ACTS {"z": [T][H][dh], "W_O": [H][dh][d]}
  analysis_reference_papers.py channel ACTS.json
      -> {"out": [T][d]}: the head output z W_O with its component along the top-r output singular
         vectors of W_V W_O scaled, from ACTS {"z": [T][dh], "W_V": [d][dh], "W_O": [dh][d], "scale", "r"}
"""
import json
import os
import sys

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from analysis_reference_a import load_hf, load_llama2c  # noqa: E402


def head_circuits(model, fold):
    _, _, _, layers = load_hf(model) if os.path.isdir(model) else load_llama2c(model)
    H, K = len(layers[0]["W_Q"]), len(layers[0]["W_K"])
    out = []
    for layer in layers:
        s = layer["ln1"][:, None] if fold else 1.0
        for h in range(H):
            q, k = s * layer["W_Q"][h], s * layer["W_K"][h // (H // K)]
            v, o = s * layer["W_V"][h // (H // K)], layer["W_O"][h]
            out.append({"QK": q @ k.T, "OV": v @ o, "W_V": v, "W_O": o})
    return out, H


def geometry(model, fold):
    heads, _ = head_circuits(model, fold)
    sym, nuc, fac = [], [], []
    for c in heads:
        M = c["QK"]
        S, A = (M + M.T) / 2, (M - M.T) / 2
        s2, a2 = np.sum(S * S), np.sum(A * A)
        sym.append(float((s2 - a2) / (s2 + a2)))
        nuc.append(float(np.linalg.svd(c["OV"], compute_uv=False).sum()))
        fac.append(float((np.sum(c["W_V"] ** 2) + np.sum(c["W_O"] ** 2)) / 2))
    return {"qk_symmetry": sym, "ov_nuclear": nuc, "ov_factored": fac}


def vectors(model, r, fold):
    heads, _ = head_circuits(model, fold)
    out = {"qk_U": [], "qk_V": [], "ov_U": [], "ov_V": [], "qk_S": [], "ov_S": []}
    for c in heads:
        for name in ("qk", "ov"):
            U, S, Vt = np.linalg.svd(c[name.upper()])
            out[name + "_S"].append(S[:r + 1].tolist())
            out[name + "_U"].append(U[:, :r].T.tolist())
            out[name + "_V"].append(Vt[:r].tolist())
    return out


def components(model, edges, fold):
    heads, _ = head_circuits(model, fold)
    res = []
    for a, b, kind in edges:
        W_A = heads[a]["OV"]
        W_B = {"Q": heads[b]["QK"], "K": heads[b]["QK"].T, "V": heads[b]["OV"]}[kind]
        _, s, Vt = np.linalg.svd(W_A)
        denom = np.linalg.norm(W_A) * np.linalg.norm(W_B)
        res.append([float(s[i] * np.linalg.norm(Vt[i] @ W_B) / denom) for i in range(len(s))])
    return {"contribution": res}


def ranks_avg(x):
    x = np.asarray(x, dtype=np.float64)
    r = np.empty(len(x))
    for i, v in enumerate(x):  # 1 + number below + half the other ties
        r[i] = 1 + np.sum(x < v) + (np.sum(x == v) - 1) / 2
    return r


def agreement(grids, k):
    n = len(grids)
    sp = [[0.0] * n for _ in range(n)]
    kt = [[0.0] * n for _ in range(n)]
    ov = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(n):
            a, b = np.asarray(grids[i], float), np.asarray(grids[j], float)
            sp[i][j] = float(np.corrcoef(ranks_avg(a), ranks_avg(b))[0, 1])
            da = np.sign(a[:, None] - a[None, :])
            db = np.sign(b[:, None] - b[None, :])
            iu = np.triu_indices(len(a), 1)
            num = np.sum(da[iu] * db[iu])
            kt[i][j] = float(num / np.sqrt(np.sum(da[iu] != 0) * np.sum(db[iu] != 0)))
            ta = set(np.argsort(-a, kind="stable")[:k].tolist())
            tb = set(np.argsort(-b, kind="stable")[:k].tolist())
            ov[i][j] = len(ta & tb) / k
    return {"spearman": sp, "kendall": kt, "overlap": ov}


def energy_rank(ev, share):
    c = np.cumsum(ev) / ev.sum()
    return int(np.argmax(c >= share - 1e-12) + 1)


def pca(acts):
    x = np.asarray(acts["x"], float)  # [T, K, dh]
    out = {"rank_90": [], "rank_95": [], "rank_99": [], "numerical_rank": []}
    for k in range(x.shape[1]):
        ev = np.clip(np.linalg.eigvalsh(x[:, k].T @ x[:, k])[::-1], 0, None)
        for share, key in ((0.90, "rank_90"), (0.95, "rank_95"), (0.99, "rank_99")):
            out[key].append(energy_rank(ev, share))
        out["numerical_rank"].append(int(np.sum(ev > ev[0] * 1e-9)))
    return out


def usage(acts):
    z, W_O = np.asarray(acts["z"], float), np.asarray(acts["W_O"], float)
    norms = np.linalg.norm(np.einsum("thi,hid->thd", z, W_O), axis=-1)  # [T, H]
    share = norms / norms.sum(-1, keepdims=True)
    entropy = -np.sum(np.where(share > 0, share * np.log(np.where(share > 0, share, 1)), 0), -1)
    half = [int(np.argmax(np.cumsum(np.sort(s)[::-1]) >= 0.5 - 1e-12) + 1) for s in share]
    return {"share": share.tolist(), "entropy": entropy.tolist(), "half": half}


def channel(acts):
    z, W_V, W_O = (np.asarray(acts[k], float) for k in ("z", "W_V", "W_O"))
    _, _, Vt = np.linalg.svd(W_V @ W_O)
    Vr = Vt[:int(acts["r"])]
    o = z @ W_O
    return {"out": (o + (acts["scale"] - 1) * (o @ Vr.T) @ Vr).tolist()}


def main(argv):
    if len(argv) < 3:
        print(__doc__)
        return 2
    cmd, fold = argv[1], "--fold" in argv
    if cmd == "geometry":
        out = geometry(argv[2], fold)
    elif cmd == "vectors":
        out = vectors(argv[2], int(argv[3]), fold)
    elif cmd == "components":
        out = components(argv[2], json.load(open(argv[3])), fold)
    elif cmd == "agreement":
        out = agreement(json.load(open(argv[2])), int(argv[3]))
    elif cmd in ("pca", "usage", "channel"):
        out = {"pca": pca, "usage": usage, "channel": channel}[cmd](json.load(open(argv[2])))
    else:
        print(__doc__)
        return 2
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
