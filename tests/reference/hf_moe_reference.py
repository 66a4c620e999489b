#!/usr/bin/env python3
"""Independent reference for the Hugging Face mixture-of-experts decoders: mixtral, qwen2_moe
(shared expert behind a sigmoid gate, q/k/v biases, a dense layer from mlp_only_layers),
qwen3_moe (per-head q/k norm, decoder_sparse_step) and olmoe (q/k norm over the full projection).

Written from the transformers modeling files' formulas (modeling_mixtral, modeling_qwen2_moe,
modeling_qwen3_moe, modeling_olmoe) with Debian's python3-torch in float64; it shares no code with
headscope. The sparse block is computed token by token, the way the formulas read:
  p = softmax(router(x)) over all E experts;  (w, idx) = top-k of p;
  w /= sum(w)  (Mixtral always; the others when norm_topk_prob);
  y = sum_j w_j * down_j(silu(gate_j(x)) * up_j(x))  [+ sigmoid(x . g_shared) * shared(x)]
Every variant has more than 2 experts, top-k > 1 and grouped-query attention (4 query / 2 kv
heads). Checkpoint writing (safetensors by hand, byte-level tokenizer.json) is reused from
hf_reference.py, the rotary and RMSNorm formulas from hf_decoder_reference.py.

usage:
  hf_moe_reference.py write VARIANT OUT_DIR [--seed S] [--dtype F32|F16|BF16] [--shards N] [--drop TENSOR]
                                             [--nan-expert L,E]
  hf_moe_reference.py logits DIR IDS_JSON [--layer L]
      -> {"logits": [T][V], "pattern": [H][T][T] of layer L, "router_logits": {layer: [T][E]},
          "expert_indices": {layer: [T][k]}, "expert_weights": {layer: [T][k]}}  (sparse layers only)
  hf_moe_reference.py variants
"""
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hf_reference import flags, load_dir, rnd  # noqa: E402
from hf_decoder_reference import D, H, K, L, M, V, default_inv_freq, rms, rope, write_mode  # noqa: E402
from hf_decoder_reference import base_config as decoder_config  # noqa: E402

torch.set_grad_enabled(False)


def base_config(model_type, **kw):
    return decoder_config(model_type, hidden_act="silu", **kw)


VARIANTS = {
    # Mixtral: intermediate_size is each expert's width; always renormalises the top-k weights.
    "mixtral": base_config("mixtral", num_local_experts=4, num_experts_per_tok=2, intermediate_size=40,
                           rope_theta=1000000.0, sliding_window=None),
    # Qwen2-MoE: experts of moe_intermediate_size, a shared expert, layer 1 dense (intermediate_size).
    "qwen2_moe": base_config("qwen2_moe", num_experts=4, num_experts_per_tok=2, moe_intermediate_size=32,
                             shared_expert_intermediate_size=48, norm_topk_prob=False, decoder_sparse_step=1,
                             mlp_only_layers=[1], tie_word_embeddings=True),
    # Qwen2-MoE with every layer sparse (as llama.cpp's qwen2moe GGUF files are).
    "qwen2_moe-sparse": base_config("qwen2_moe", num_experts=4, num_experts_per_tok=2, moe_intermediate_size=32,
                                    shared_expert_intermediate_size=48, norm_topk_prob=True, decoder_sparse_step=1,
                                    mlp_only_layers=[]),
    # Qwen3-MoE: per-head q/k norm, explicit head_dim, renormalised top-3 of 5.
    "qwen3_moe": base_config("qwen3_moe", head_dim=24, num_experts=5, num_experts_per_tok=3,
                             moe_intermediate_size=40, norm_topk_prob=True, decoder_sparse_step=1,
                             mlp_only_layers=[]),
    # Qwen3-MoE with decoder_sparse_step 2: only layer 1 is sparse ((l + 1) % 2 == 0).
    "qwen3_moe-step2": base_config("qwen3_moe", head_dim=16, num_experts=4, num_experts_per_tok=2,
                                   moe_intermediate_size=40, norm_topk_prob=False, decoder_sparse_step=2),
    # OLMoE: q/k norm over the whole projection, top-2 of 6 without renormalisation.
    "olmoe": base_config("olmoe", num_experts=6, num_experts_per_tok=2, intermediate_size=40, rms_norm_eps=1e-5,
                         norm_topk_prob=False, clip_qkv=None),
}


def head_dim(c):
    return c.get("head_dim") or c["hidden_size"] // c["num_attention_heads"]


def n_experts(c):
    return c.get("num_local_experts") if c["model_type"] == "mixtral" else c["num_experts"]


def expert_width(c):
    return c["moe_intermediate_size"] if c["model_type"] in ("qwen2_moe", "qwen3_moe") else c["intermediate_size"]


def is_sparse(c, l):
    """Qwen-MoE: sparse unless in mlp_only_layers or off the decoder_sparse_step grid; others: always."""
    if c["model_type"] in ("qwen2_moe", "qwen3_moe"):
        return l not in (c.get("mlp_only_layers") or []) and (l + 1) % c.get("decoder_sparse_step", 1) == 0
    return True


def make(variant, g):
    c = dict(VARIANTS[variant])
    mt, dh, E, F = c["model_type"], head_dim(c), n_experts(c), expert_width(c)
    t = {"model.embed_tokens.weight": rnd(g, V, D, scale=0.3)}
    norm = lambda n: 1 + rnd(g, n, scale=0.3)  # noqa: E731
    for l in range(L):
        p = "model.layers.%d." % l
        t[p + "input_layernorm.weight"] = norm(D)
        t[p + "self_attn.q_proj.weight"] = rnd(g, H * dh, D, scale=0.25)
        t[p + "self_attn.k_proj.weight"] = rnd(g, K * dh, D, scale=0.25)
        t[p + "self_attn.v_proj.weight"] = rnd(g, K * dh, D)
        t[p + "self_attn.o_proj.weight"] = rnd(g, D, H * dh)
        if mt == "qwen2_moe":  # qkv_bias
            for n, w in (("q", H), ("k", K), ("v", K)):
                t[p + "self_attn.%s_proj.bias" % n] = rnd(g, w * dh)
        if mt == "qwen3_moe":
            t[p + "self_attn.q_norm.weight"] = norm(dh)
            t[p + "self_attn.k_norm.weight"] = norm(dh)
        if mt == "olmoe":
            t[p + "self_attn.q_norm.weight"] = norm(H * dh)
            t[p + "self_attn.k_norm.weight"] = norm(K * dh)
        t[p + "post_attention_layernorm.weight"] = norm(D)
        if not is_sparse(c, l):
            t[p + "mlp.gate_proj.weight"] = rnd(g, M, D)
            t[p + "mlp.up_proj.weight"] = rnd(g, M, D)
            t[p + "mlp.down_proj.weight"] = rnd(g, D, M)
            continue
        moe = p + ("block_sparse_moe." if mt == "mixtral" else "mlp.")
        t[moe + "gate.weight"] = rnd(g, E, D, scale=0.25)
        for e in range(E):
            names = ("w1", "w3", "w2") if mt == "mixtral" else ("gate_proj", "up_proj", "down_proj")
            t[moe + "experts.%d.%s.weight" % (e, names[0])] = rnd(g, F, D, scale=0.2)
            t[moe + "experts.%d.%s.weight" % (e, names[1])] = rnd(g, F, D, scale=0.2)
            t[moe + "experts.%d.%s.weight" % (e, names[2])] = rnd(g, D, F, scale=0.2)
        if mt == "qwen2_moe":
            S = c["shared_expert_intermediate_size"]
            t[moe + "shared_expert.gate_proj.weight"] = rnd(g, S, D, scale=0.2)
            t[moe + "shared_expert.up_proj.weight"] = rnd(g, S, D, scale=0.2)
            t[moe + "shared_expert.down_proj.weight"] = rnd(g, D, S, scale=0.2)
            t[moe + "shared_expert_gate.weight"] = rnd(g, 1, D, scale=0.3)
    t["model.norm.weight"] = norm(D)
    if not c["tie_word_embeddings"]:
        t["lm_head.weight"] = rnd(g, V, D, scale=0.3)
    return t, c


def silu(x):
    return x / (1.0 + torch.exp(-x))


def swiglu(x, gate, up, down):
    """x [d]; gate, up [f, d]; down [d, f] (nn.Linear weights)."""
    return down @ (silu(gate @ x) * (up @ x))


def sparse_block(t, c, p, x):
    """x [T, D] -> (y [T, D], router logits [T, E], indices [T, k], weights [T, k]), token by token."""
    mt, E, k = c["model_type"], n_experts(c), c["num_experts_per_tok"]
    moe = p + ("block_sparse_moe." if mt == "mixtral" else "mlp.")
    names = ("w1", "w3", "w2") if mt == "mixtral" else ("gate_proj", "up_proj", "down_proj")
    renorm = True if mt == "mixtral" else c.get("norm_topk_prob", False)
    logits = x @ t[moe + "gate.weight"].T
    ys, idxs, ws = [], [], []
    for i in range(x.shape[0]):
        prob = torch.softmax(logits[i], -1)
        order = sorted(range(E), key=lambda e: -float(prob[e]))[:k]
        w = torch.stack([prob[e] for e in order])
        if renorm:
            w = w / w.sum()
        y = torch.zeros(x.shape[1], dtype=x.dtype)
        for j, e in enumerate(order):
            ex = moe + "experts.%d." % e
            y = y + w[j] * swiglu(x[i], t[ex + names[0] + ".weight"], t[ex + names[1] + ".weight"],
                                  t[ex + names[2] + ".weight"])
        if mt == "qwen2_moe":
            sh = moe + "shared_expert."
            gate = torch.sigmoid(t[moe + "shared_expert_gate.weight"][0] @ x[i])
            y = y + gate * swiglu(x[i], t[sh + "gate_proj.weight"], t[sh + "up_proj.weight"], t[sh + "down_proj.weight"])
        ys.append(y)
        idxs.append(order)
        ws.append(w.tolist())
    return torch.stack(ys), logits, idxs, ws


def forward(t, c, ids):
    mt = c["model_type"]
    T, dh, eps = len(ids), head_dim(c), c["rms_norm_eps"]
    n = lambda x, name: rms(x, t[name], eps, False)  # noqa: E731
    x = t["model.embed_tokens.weight"][ids]
    inv = default_inv_freq(c.get("rope_theta", 10000.0), dh)
    patterns, routing = [], {}
    for l in range(c["num_hidden_layers"]):
        p = "model.layers.%d." % l
        h = n(x, p + "input_layernorm.weight")

        def lin(a, name):
            y = a @ t[name + ".weight"].T
            return y + t[name + ".bias"] if name + ".bias" in t else y

        q, k, v = lin(h, p + "self_attn.q_proj"), lin(h, p + "self_attn.k_proj"), lin(h, p + "self_attn.v_proj")
        if mt == "olmoe":  # q_norm(q_proj(x)) over the whole projection, before the head split
            q, k = n(q, p + "self_attn.q_norm.weight"), n(k, p + "self_attn.k_norm.weight")
        q, k, v = [z.view(T, -1, dh).transpose(0, 1) for z in (q, k, v)]
        if mt == "qwen3_moe":  # per head, before rotary
            q, k = n(q, p + "self_attn.q_norm.weight"), n(k, p + "self_attn.k_norm.weight")
        q, k = rope(q, inv, 1.0), rope(k, inv, 1.0)
        k, v = k.repeat_interleave(H // K, 0), v.repeat_interleave(H // K, 0)
        s = (q @ k.transpose(-1, -2)) / math.sqrt(dh)
        w = c.get("sliding_window") if mt == "mixtral" else None
        i = torch.arange(T).unsqueeze(1)
        j = torch.arange(T).unsqueeze(0)
        hidden = j > i
        if w:
            hidden = hidden | (i - j >= w)
        pat = torch.softmax(s.masked_fill(hidden, float("-inf")), -1)
        patterns.append(pat)
        x = x + lin((pat @ v).transpose(0, 1).reshape(T, -1), p + "self_attn.o_proj")
        h = n(x, p + "post_attention_layernorm.weight")
        if is_sparse(c, l):
            y, logits, idx, wts = sparse_block(t, c, p, h)
            routing[l] = (logits, idx, wts)
        else:
            y = lin(silu(lin(h, p + "mlp.gate_proj")) * lin(h, p + "mlp.up_proj"), p + "mlp.down_proj")
        x = x + y
    x = n(x, "model.norm.weight")
    W_U = t["model.embed_tokens.weight"] if c["tie_word_embeddings"] else t["lm_head.weight"]
    return x @ W_U.T, patterns, routing


def poison_expert(t, a):
    """--nan-expert L,E: expert E of layer L filled with NaN (the sparse-compute test)."""
    if "nan_expert" in a:
        l, e = a["nan_expert"].split(",")
        for name in list(t):
            if name.startswith("model.layers.%s." % l) and ".experts.%s." % e in name:
                t[name] = torch.full_like(t[name], float("nan"))


def main():
    mode = sys.argv[1]
    if mode == "variants":
        print("\n".join(VARIANTS))
    elif mode == "write":
        write_mode(make, sys.argv[2:], poison_expert)
    elif mode == "logits":
        d, ids = sys.argv[2], json.loads(sys.argv[3])
        a = flags(sys.argv[4:])
        c = json.load(open(os.path.join(d, "config.json")))
        logits, patterns, routing = forward(load_dir(d), c, torch.tensor(ids))
        json.dump({"logits": logits.tolist(), "pattern": patterns[int(a.get("layer", 0))].tolist(),
                   "router_logits": {str(l): r[0].tolist() for l, r in routing.items()},
                   "expert_indices": {str(l): r[1] for l, r in routing.items()},
                   "expert_weights": {str(l): r[2] for l, r in routing.items()}}, sys.stdout)
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
