#!/usr/bin/python3
"""Independent reference of the sparse mixture-of-experts MLP of Hugging Face's Mixtral,
Qwen2-MoE, Qwen3-MoE and OLMoE modeling code, in float64 numpy.

Formulas (transformers' MixtralSparseMoeBlock, Qwen2MoeSparseMoeBlock, Qwen3MoeSparseMoeBlock,
OlmoeSparseMoeBlock):
  router_logits = gate(x)                                  (Linear d_model -> E, no bias)
  routing       = softmax(router_logits)                   (over all E experts)
  w, idx        = topk(routing, k)
  w             = w / sum(w)     if norm_topk_prob         (Mixtral: always)
  out           = sum_j w_j * expert_{idx_j}(x),  expert(x) = down(silu(gate_proj(x)) * up_proj(x))
  Qwen2-MoE adds  sigmoid(shared_expert_gate(x)) * shared_expert(x).

Unlike headscope's sparse kernel, this computes every expert on every token and mixes them
with a dense [tokens, E] routing matrix. Seeds are re-drawn until the k-th and (k+1)-th
routing probabilities of every token differ by > 1e-4, so float32 and float64 agree on the
selection and on its order.

Writes to --out: <name>.f32 (raw little-endian float32, row-major) for inputs, weights and
expected outputs, and manifest.json listing each case (family, shapes, options, file names).
Weights use headscope's [in, out] layout: W_router [d, E], W_gate/W_in [E, d, f], W_out [E, f, d].
"""
import argparse
import json
import os

import numpy as np

FAMILIES = {
    # family: (normalize top-k, shared expert)
    "mixtral": (True, False),
    "qwen2_moe": (False, True),
    "qwen2_moe_norm": (True, True),
    "qwen3_moe": (True, False),
    "olmoe": (False, False),
}


def silu(z):
    return z / (1.0 + np.exp(-z))


def softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def reference(x, w, top_k, normalize, shared):
    B, T, d = x.shape
    E = w["W_router"].shape[1]
    xf = x.reshape(-1, d)
    logits = xf @ w["W_router"]
    probs = softmax(logits)
    order = np.argsort(-probs, axis=-1, kind="stable")
    idx = order[:, :top_k]
    top = np.take_along_axis(probs, idx, axis=-1)
    if normalize:
        top = top / top.sum(axis=-1, keepdims=True)
    dense = np.zeros_like(probs)  # [N, E]
    np.put_along_axis(dense, idx, top, axis=-1)
    all_out = np.stack([(silu(xf @ w["W_gate"][e]) * (xf @ w["W_in"][e])) @ w["W_out"][e] for e in range(E)])
    out = np.einsum("ne,end->nd", dense, all_out)
    expert_out = np.stack([all_out[idx[:, j], np.arange(xf.shape[0])] for j in range(top_k)], axis=1)
    result = {"out": out, "router_logits": logits, "expert_weights": top,
              "expert_indices": idx.astype(np.float64), "expert_out": expert_out}
    if shared:
        gate = 1.0 / (1.0 + np.exp(-(xf @ w["W_shared_router"])))
        s = gate * ((silu(xf @ w["W_shared_gate"]) * (xf @ w["W_shared_in"])) @ w["W_shared_out"])
        result["shared_out"] = s
        result["out"] = out + s
    shapes = {"out": (B, T, d), "router_logits": (B, T, E), "expert_weights": (B, T, top_k),
              "expert_indices": (B, T, top_k), "expert_out": (B, T, top_k, d), "shared_out": (B, T, d)}
    return {k: v.reshape(shapes[k]) for k, v in result.items()}, probs


def make_case(rng, family, B, T, d, f, E, k):
    normalize, shared = FAMILIES[family]
    for _ in range(100):
        x = rng.standard_normal((B, T, d)).astype(np.float32)
        w = {"W_router": (rng.standard_normal((d, E)) * 0.5).astype(np.float32),
             "W_gate": (rng.standard_normal((E, d, f)) / np.sqrt(d)).astype(np.float32),
             "W_in": (rng.standard_normal((E, d, f)) / np.sqrt(d)).astype(np.float32),
             "W_out": (rng.standard_normal((E, f, d)) / np.sqrt(f)).astype(np.float32)}
        if shared:
            fs = f + 8
            w.update({"W_shared_gate": (rng.standard_normal((d, fs)) / np.sqrt(d)).astype(np.float32),
                      "W_shared_in": (rng.standard_normal((d, fs)) / np.sqrt(d)).astype(np.float32),
                      "W_shared_out": (rng.standard_normal((fs, d)) / np.sqrt(fs)).astype(np.float32),
                      "W_shared_router": (rng.standard_normal((d, 1)) * 0.3).astype(np.float32)})
        w64 = {n: v.astype(np.float64) for n, v in w.items()}
        expected, probs = reference(x.astype(np.float64), w64, k, normalize, shared)
        sorted_p = -np.sort(-probs, axis=-1)[:, :min(k + 1, E)]
        if np.min(sorted_p[:, :-1] - sorted_p[:, 1:]) > 1e-4:  # selection and its order are clear
            return x, w, expected, normalize, shared
    raise RuntimeError("no well-separated routing found")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    os.makedirs(args.out, exist_ok=True)
    cases = []
    shapes = [("mixtral", 2, 5, 16, 24, 8, 2), ("qwen2_moe", 1, 7, 16, 12, 6, 4), ("qwen2_moe_norm", 2, 3, 8, 8, 5, 2),
              ("qwen3_moe", 2, 6, 16, 8, 10, 3), ("olmoe", 1, 9, 12, 16, 8, 2), ("mixtral", 1, 3, 8, 8, 4, 4)]
    for i, (family, B, T, d, f, E, k) in enumerate(shapes):
        x, w, expected, normalize, shared = make_case(rng, family, B, T, d, f, E, k)
        if family == "mixtral":  # Mixtral's own statement: softmax over the k selected logits
            logits = expected["router_logits"].reshape(-1, E)
            chosen = np.take_along_axis(logits, expected["expert_indices"].reshape(-1, k).astype(int), axis=-1)
            assert np.allclose(softmax(chosen), expected["expert_weights"].reshape(-1, k), atol=1e-12)
        prefix = "case%d." % i
        files = {}
        for name, value in [("x", x)] + list(w.items()) + list(expected.items()):
            path = prefix + name + ".f32"
            np.asarray(value, dtype="<f4").tofile(os.path.join(args.out, path))
            files[name] = {"file": path, "shape": list(np.shape(value))}
        cases.append({"family": family, "top_k": k, "normalize_topk": normalize, "shared_expert": shared,
                      "n_experts": E, "tensors": files})
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump({"cases": cases}, f, indent=1)


if __name__ == "__main__":
    main()
