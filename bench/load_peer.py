#!/usr/bin/python3
"""The peer for bench/load: a plain PyTorch script that memory-maps model.safetensors zero-copy
(numpy.memmap -> torch.from_numpy, bf16 viewed in place) and runs the same Llama forward for a
16-token prompt, upcasting each layer's weights when it runs (float32) or computing in bfloat16.

usage: load_peer.py DIR float32|bfloat16  -> one JSON line: load_s, first_logits_s, peak_rss_bytes
"""
import json
import os
import resource
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

torch.set_grad_enabled(False)
DTYPES = {"F32": (np.float32, None), "F16": (np.float16, None), "BF16": (np.int16, torch.bfloat16)}  # int16: torch 1.13 has no uint16


def open_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    header.pop("__metadata__", None)
    mm = np.memmap(path, dtype=np.uint8, mode="r")
    out = {}
    for name, e in header.items():
        np_type, view = DTYPES[e["dtype"]]
        b, end = e["data_offsets"]
        raw = mm[8 + n + b: 8 + n + end].view(np_type).reshape(e["shape"])
        t = torch.from_numpy(raw)  # shares the map (read-only warning silenced below)
        out[name] = t.view(view) if view is not None else t
    return out


def rope(x, base):
    T, dh = x.shape[-2], x.shape[-1]
    inv = base ** (-torch.arange(0, dh, 2, dtype=torch.float64) / dh)
    ang = torch.outer(torch.arange(T, dtype=torch.float64), inv)
    cos, sin = torch.cat([ang.cos()] * 2, -1).to(x.dtype), torch.cat([ang.sin()] * 2, -1).to(x.dtype)
    x1, x2 = x[..., : dh // 2], x[..., dh // 2:]
    return x * cos + torch.cat([-x2, x1], -1) * sin


def forward(t, c, ids, dtype):
    d, H, K = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"]
    dh, eps, base = d // H, c["rms_norm_eps"], c.get("rope_theta", 10000.0)
    w = lambda name: t[name].to(dtype)  # noqa: E731  (float32: the per-layer upcast)

    def norm(x, g):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * g

    x = t["model.embed_tokens.weight"][ids].to(dtype)
    T = x.shape[0]
    mask = torch.full((T, T), float("-inf"), dtype=dtype).triu(1)
    for l in range(c["num_hidden_layers"]):
        p = "model.layers.%d." % l
        h = norm(x, w(p + "input_layernorm.weight"))
        q = F.linear(h, w(p + "self_attn.q_proj.weight")).view(T, H, dh).transpose(0, 1)
        k = F.linear(h, w(p + "self_attn.k_proj.weight")).view(T, K, dh).transpose(0, 1)
        v = F.linear(h, w(p + "self_attn.v_proj.weight")).view(T, K, dh).transpose(0, 1)
        q, k = rope(q, base), rope(k, base)
        k, v = k.repeat_interleave(H // K, 0), v.repeat_interleave(H // K, 0)
        a = torch.softmax(q @ k.transpose(-1, -2) / dh ** 0.5 + mask, -1) @ v
        x = x + F.linear(a.transpose(0, 1).reshape(T, d), w(p + "self_attn.o_proj.weight"))
        h = norm(x, w(p + "post_attention_layernorm.weight"))
        g = F.silu(F.linear(h, w(p + "mlp.gate_proj.weight"))) * F.linear(h, w(p + "mlp.up_proj.weight"))
        x = x + F.linear(g, w(p + "mlp.down_proj.weight"))
    x = norm(x, w("model.norm.weight"))
    return F.linear(x, w("lm_head.weight"))


def main():
    import warnings
    warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
    d, dtype = sys.argv[1], torch.bfloat16 if sys.argv[2] == "bfloat16" else torch.float32
    t0 = time.perf_counter()
    c = json.load(open(os.path.join(d, "config.json")))
    t = open_safetensors(os.path.join(d, "model.safetensors"))
    load_s = time.perf_counter() - t0
    ids = torch.tensor(list(b"The capital city"))
    t1 = time.perf_counter()
    logits = forward(t, c, ids, dtype)
    first_s = time.perf_counter() - t1
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"load_s": load_s, "first_logits_s": first_s, "peak_rss_bytes": peak,
                      "checksum": float(logits.double().sum())}))


if __name__ == "__main__":
    main()
