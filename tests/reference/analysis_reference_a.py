#!/usr/bin/env python3
"""Independent dense reference for the weight analyses (qk_ov_svd, composition).

Reads the checkpoint itself (llama2.c .bin or a Hugging Face gpt2 / llama directory with
safetensors), never headscope's code, forms every d_model x d_model circuit explicitly in
float64 and decomposes it densely with numpy:

  QK[h] = W_Q[h] W_K[kv(h)]^T,  OV[h] = W_V[kv(h)] W_O[h]  (TransformerLens row-vector layout,
  kv(h) = h // (H / K)); singular values by dense SVD; copying score
  sum(Re eig(W_E OV W_U)) / sum(|eig(W_E OV W_U)|) by dense eigenvalues of the V x V matrix;
  composition ||W_A W_B||_F / (||W_A||_F ||W_B||_F) with W_A = OV[A] and W_B = QK[B] (Q),
  QK[B]^T (K), OV[B] (V), for every head A in a layer before head B's.

With --fold the input (d_model) side of W_Q, W_K, W_V is scaled by ln1's weight and W_U's rows
by the final norm's weight (TransformerLens fold_ln without biases or centring).

usage:
  analysis_reference_a.py circuits MODEL [--fold] [--composition]
      -> {"layers", "heads", "qk_sv", "ov_sv", "qk_fro", "ov_fro", "copying"[, "composition"]}
         per-head lists in layer-major order (index layer * heads + head)
"""
import json
import os
import struct
import sys

# Single-threaded LAPACK: faster than oversubscribed threads on a busy test machine.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        raw = data[8 + n + b:8 + n + e]
        if info["dtype"] == "BF16":
            u = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
            arr = u.view(np.float32)
        else:
            arr = np.frombuffer(raw, dtype={"F32": "<f4", "F16": "<f2"}[info["dtype"]])
        out[name] = arr.astype(np.float64).reshape(info["shape"])
    return out


def load_hf(d):
    cfg = json.load(open(os.path.join(d, "config.json")))
    index = os.path.join(d, "model.safetensors.index.json")
    files = sorted(set(json.load(open(index))["weight_map"].values())) if os.path.exists(index) else ["model.safetensors"]
    t = {}
    for f in files:
        t.update(read_safetensors(os.path.join(d, f)))
    layers = []
    if cfg["model_type"] == "gpt2":
        pre = "transformer." if "transformer.wte.weight" in t else ""
        dm, H = cfg["n_embd"], cfg["n_head"]
        dh = dm // H
        for l in range(cfg["n_layer"]):
            p = pre + "h.%d." % l
            w = t[p + "attn.c_attn.weight"]  # [d, 3d], x @ w
            q, k, v = w[:, :dm], w[:, dm:2 * dm], w[:, 2 * dm:]
            o = t[p + "attn.c_proj.weight"]  # [d(in = heads), d]
            layers.append({
                "W_Q": [q[:, h * dh:(h + 1) * dh] for h in range(H)],
                "W_K": [k[:, h * dh:(h + 1) * dh] for h in range(H)],
                "W_V": [v[:, h * dh:(h + 1) * dh] for h in range(H)],
                "W_O": [o[h * dh:(h + 1) * dh, :] for h in range(H)],
                "ln1": t[p + "ln_1.weight"]})
        W_E = t[pre + "wte.weight"]
        return W_E, W_E.T, t[pre + "ln_f.weight"], layers
    if cfg["model_type"] in ("llama", "mistral", "qwen2"):
        dm, H = cfg["hidden_size"], cfg["num_attention_heads"]
        K = cfg.get("num_key_value_heads", H)
        dh = cfg.get("head_dim", dm // H)
        for l in range(cfg["num_hidden_layers"]):
            p = "model.layers.%d.self_attn." % l
            q, k, v, o = (t[p + n + "_proj.weight"] for n in "qkvo")  # [out, in]
            layers.append({
                "W_Q": [q[h * dh:(h + 1) * dh].T for h in range(H)],
                "W_K": [k[h * dh:(h + 1) * dh].T for h in range(K)],
                "W_V": [v[h * dh:(h + 1) * dh].T for h in range(K)],
                "W_O": [o[:, h * dh:(h + 1) * dh].T for h in range(H)],
                "ln1": t["model.layers.%d.input_layernorm.weight" % l]})
        W_E = t["model.embed_tokens.weight"]
        W_U = W_E.T if cfg.get("tie_word_embeddings") else t["lm_head.weight"].T
        return W_E, W_U, t["model.norm.weight"], layers
    raise SystemExit("unsupported model_type " + cfg["model_type"])


def load_llama2c(path):
    data = open(path, "rb").read()
    dim, hidden, L, H, K, V, ctx = struct.unpack("<7i", data[:28])
    shared = V > 0
    V = abs(V)
    dh = dim // H
    w = np.frombuffer(data, dtype="<f4", offset=28).astype(np.float64)
    pos = [0]

    def take(*shape):
        n = int(np.prod(shape))
        r = w[pos[0]:pos[0] + n].reshape(shape)
        pos[0] += n
        return r

    emb = take(V, dim)
    rms_att = take(L, dim)
    wq, wk, wv, wo = take(L, H * dh, dim), take(L, K * dh, dim), take(L, K * dh, dim), take(L, dim, H * dh)
    take(L, dim)
    take(L, hidden, dim), take(L, dim, hidden), take(L, hidden, dim)
    norm = take(dim)
    take(ctx, dh // 2)
    take(ctx, dh // 2)
    wcls = emb if shared else take(V, dim)
    layers = []
    for l in range(L):
        layers.append({
            "W_Q": [wq[l][h * dh:(h + 1) * dh].T for h in range(H)],  # y = W x with W [out, in]
            "W_K": [wk[l][h * dh:(h + 1) * dh].T for h in range(K)],
            "W_V": [wv[l][h * dh:(h + 1) * dh].T for h in range(K)],
            "W_O": [wo[l][:, h * dh:(h + 1) * dh].T for h in range(H)],
            "ln1": rms_att[l]})
    return emb, wcls.T, norm, layers


def circuits(model, fold, composition):
    W_E, W_U, ln_f, layers = load_hf(model) if os.path.isdir(model) else load_llama2c(model)
    if fold:
        W_U = ln_f[:, None] * W_U
    H = len(layers[0]["W_Q"])
    K = len(layers[0]["W_K"])
    group = H // K
    qk, ov = [], []
    for layer in layers:
        s = layer["ln1"][:, None] if fold else 1.0
        for h in range(H):
            qk.append((s * layer["W_Q"][h]) @ (s * layer["W_K"][h // group]).T)
            ov.append((s * layer["W_V"][h // group]) @ layer["W_O"][h])
    out = {"layers": len(layers), "heads": H,
           "qk_sv": [np.linalg.svd(m, compute_uv=False).tolist() for m in qk],
           "ov_sv": [np.linalg.svd(m, compute_uv=False).tolist() for m in ov],
           "qk_fro": [float(np.linalg.norm(m)) for m in qk],
           "ov_fro": [float(np.linalg.norm(m)) for m in ov]}
    copying = []
    for m in ov:
        ev = np.linalg.eigvals(W_E @ m @ W_U)
        copying.append(float(ev.real.sum() / np.abs(ev).sum()))
    out["copying"] = copying
    if composition:
        n = len(qk)
        comp = {k: [[0.0] * n for _ in range(n)] for k in "QKV"}
        for a in range(n):
            for b in range(n):
                if b // H <= a // H:
                    continue
                for kind, right in (("Q", qk[b]), ("K", qk[b].T), ("V", ov[b])):
                    comp[kind][a][b] = float(np.linalg.norm(ov[a] @ right) /
                                             (np.linalg.norm(ov[a]) * np.linalg.norm(right)))
        out["composition"] = comp
    return out


def main(argv):
    if len(argv) < 3 or argv[1] != "circuits":
        print(__doc__)
        return 2
    json.dump(circuits(argv[2], "--fold" in argv, "--composition" in argv), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
