#!/usr/bin/env python3
"""Independent reference for today's Hugging Face decoders: llama (llama3 / linear / dynamic /
yarn rope scaling, explicit head_dim, attention_bias, mlp_bias), mistral and qwen2 with a real
sliding window, qwen3, gemma, gemma2, gemma3_text, phi3 (fused projections, partial rotary,
longrope) and olmo2.

Written from the transformers modeling files' formulas (modeling_llama, modeling_gemma{,2,3},
modeling_qwen3, modeling_phi3, modeling_olmo2, modeling_rope_utils) with Debian's python3-torch in
float64; it shares no code with headscope. Checkpoint writing (safetensors by hand, byte-level
tokenizer.json) is reused from hf_reference.py.

usage:
  hf_decoder_reference.py write VARIANT OUT_DIR [--seed S] [--dtype F32|F16|BF16] [--shards N]
                                                            [--drop TENSOR]
  hf_decoder_reference.py logits DIR IDS_JSON [--layer L]   -> {"logits": [...], "pattern": [...]}
  hf_decoder_reference.py variants                          -> the variant names, one a line
"""
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hf_reference import flags, load_dir, rnd, write_checkpoint  # noqa: E402

torch.set_grad_enabled(False)

D, L, H, K, M, V = 64, 3, 4, 2, 96, 512


# ---------------------------------------------------------------- checkpoints

def base_config(model_type, **kw):
    c = {"model_type": model_type, "hidden_size": D, "num_hidden_layers": L, "num_attention_heads": H,
         "num_key_value_heads": K, "intermediate_size": M, "vocab_size": V, "max_position_embeddings": 128,
         "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "tie_word_embeddings": False, "bos_token_id": 1,
         "eos_token_id": 2}
    c.update(kw)
    return c


VARIANTS = {
    "llama3": base_config("llama", head_dim=24, attention_bias=True, mlp_bias=True, hidden_act="silu",
                          rope_theta=500000.0,
                          rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                        "high_freq_factor": 4.0, "original_max_position_embeddings": 32}),
    "llama-linear": base_config("llama", rope_scaling={"type": "linear", "factor": 2.0}),
    "llama-dynamic": base_config("llama", max_position_embeddings=8, rope_scaling={"type": "dynamic", "factor": 2.0}),
    "llama-yarn": base_config("llama", rope_scaling={"rope_type": "yarn", "factor": 4.0,
                                                     "original_max_position_embeddings": 32}),
    "mistral": base_config("mistral", sliding_window=4),
    "qwen2": base_config("qwen2", use_sliding_window=True, sliding_window=5, max_window_layers=1,
                         tie_word_embeddings=True),
    "qwen3": base_config("qwen3", head_dim=24, use_sliding_window=True, sliding_window=5, max_window_layers=1),
    "gemma": base_config("gemma", head_dim=24, hidden_activation="gelu_pytorch_tanh", tie_word_embeddings=True),
    "gemma2": base_config("gemma2", head_dim=16, hidden_activation="gelu_pytorch_tanh", tie_word_embeddings=True,
                          query_pre_attn_scalar=20, sliding_window=4, attn_logit_softcapping=1.5,
                          final_logit_softcapping=4.0),
    "gemma3_text": base_config("gemma3_text", head_dim=16, hidden_activation="gelu_pytorch_tanh",
                               tie_word_embeddings=True, query_pre_attn_scalar=16, sliding_window=4,
                               sliding_window_pattern=2, rope_theta=1000000.0, rope_local_base_freq=10000.0,
                               rope_scaling={"rope_type": "linear", "factor": 2.0},
                               attn_logit_softcapping=None, final_logit_softcapping=None),
    "phi3": base_config("phi3", max_position_embeddings=32, original_max_position_embeddings=8,
                        partial_rotary_factor=0.5, sliding_window=6,
                        rope_scaling={"type": "longrope", "short_factor": [1.0, 1.5, 2.0, 3.0],
                                      "long_factor": [1.0, 2.5, 5.0, 9.0]}),
    "olmo2": base_config("olmo2", rms_norm_eps=1e-5),
    # As llama.cpp's converters can express them (the GGUF tests): qwen2/qwen3 without the layer-
    # dependent window, phi3 without longrope factors, gemma2/3 with the q scale llama.cpp derives
    # (1/sqrt(head_dim) below 27B) and gemma3 with its fixed 5-local-1-global layer pattern.
    "llama31-gguf": base_config("llama", rope_theta=500000.0,
                                rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                              "high_freq_factor": 4.0, "original_max_position_embeddings": 64}),
    "gemma2-gguf": base_config("gemma2", head_dim=16, hidden_activation="gelu_pytorch_tanh", tie_word_embeddings=True,
                               query_pre_attn_scalar=16, sliding_window=4, attn_logit_softcapping=1.5,
                               final_logit_softcapping=4.0),
    "gemma3-gguf": base_config("gemma3_text", num_hidden_layers=6, head_dim=16, hidden_activation="gelu_pytorch_tanh",
                               tie_word_embeddings=True, query_pre_attn_scalar=16, sliding_window=4,
                               sliding_window_pattern=6, rope_theta=1000000.0, rope_local_base_freq=10000.0,
                               rope_scaling={"rope_type": "linear", "factor": 2.0},
                               attn_logit_softcapping=None, final_logit_softcapping=None),
    "qwen2-full": base_config("qwen2", tie_word_embeddings=True),
    "qwen3-full": base_config("qwen3", head_dim=24),
    "phi3-plain": base_config("phi3", partial_rotary_factor=0.5),
}


def head_dim(c):
    return c.get("head_dim") or c["hidden_size"] // c["num_attention_heads"]


def make(variant, g):
    c = dict(VARIANTS[variant])
    mt, dh = c["model_type"], head_dim(c)
    t = {"model.embed_tokens.weight": rnd(g, V, D, scale=0.3)}
    norm = (lambda n: rnd(g, n, scale=0.3)) if mt.startswith("gemma") else (lambda n: 1 + rnd(g, n, scale=0.3))
    for l in range(c["num_hidden_layers"]):
        p = "model.layers.%d." % l
        if mt != "olmo2":
            t[p + "input_layernorm.weight"] = norm(D)
        if mt == "phi3":
            t[p + "self_attn.qkv_proj.weight"] = rnd(g, (H + 2 * K) * dh, D, scale=0.25)
        else:
            t[p + "self_attn.q_proj.weight"] = rnd(g, H * dh, D, scale=0.25)
            t[p + "self_attn.k_proj.weight"] = rnd(g, K * dh, D, scale=0.25)
            t[p + "self_attn.v_proj.weight"] = rnd(g, K * dh, D)
        t[p + "self_attn.o_proj.weight"] = rnd(g, D, H * dh)
        if c.get("attention_bias") or mt == "qwen2":
            for n, w in (("q", H), ("k", K), ("v", K)):
                t[p + "self_attn.%s_proj.bias" % n] = rnd(g, w * dh)
            if mt != "qwen2":
                t[p + "self_attn.o_proj.bias"] = rnd(g, D)
        if mt in ("qwen3", "gemma3_text"):
            t[p + "self_attn.q_norm.weight"] = norm(dh)
            t[p + "self_attn.k_norm.weight"] = norm(dh)
        if mt == "olmo2":
            t[p + "self_attn.q_norm.weight"] = norm(H * dh)
            t[p + "self_attn.k_norm.weight"] = norm(K * dh)
        if mt in ("gemma2", "gemma3_text"):
            t[p + "post_attention_layernorm.weight"] = norm(D)
            t[p + "pre_feedforward_layernorm.weight"] = norm(D)
            t[p + "post_feedforward_layernorm.weight"] = norm(D)
        elif mt == "olmo2":
            t[p + "post_attention_layernorm.weight"] = norm(D)
            t[p + "post_feedforward_layernorm.weight"] = norm(D)
        else:
            t[p + "post_attention_layernorm.weight"] = norm(D)
        if mt == "phi3":
            t[p + "mlp.gate_up_proj.weight"] = rnd(g, 2 * M, D)
        else:
            t[p + "mlp.gate_proj.weight"] = rnd(g, M, D)
            t[p + "mlp.up_proj.weight"] = rnd(g, M, D)
        t[p + "mlp.down_proj.weight"] = rnd(g, D, M)
        if c.get("mlp_bias"):
            t[p + "mlp.gate_proj.bias"] = rnd(g, M)
            t[p + "mlp.up_proj.bias"] = rnd(g, M)
            t[p + "mlp.down_proj.bias"] = rnd(g, D)
    t["model.norm.weight"] = norm(D)
    if not c["tie_word_embeddings"]:
        t["lm_head.weight"] = rnd(g, V, D, scale=0.3)
    return t, c


# ---------------------------------------------------------------- rotary (modeling_rope_utils)

def default_inv_freq(base, dim):
    return 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim))


def inv_freq_and_scale(c, dim, seq_len, base):
    """inverse frequencies and attention factor for a forward of seq_len positions."""
    rs = c.get("rope_scaling")
    kind = (rs or {}).get("rope_type", (rs or {}).get("type", "default"))
    if kind == "default":
        return default_inv_freq(base, dim), 1.0
    if kind == "linear":
        return default_inv_freq(base, dim) / rs["factor"], 1.0
    if kind == "dynamic":
        mp, f = c["max_position_embeddings"], rs["factor"]
        n = max(seq_len, mp)
        base = base * ((f * n / mp) - (f - 1)) ** (dim / (dim - 2))
        return default_inv_freq(base, dim), 1.0
    if kind == "llama3":
        inv = default_inv_freq(base, dim)
        f, lo, hi, old = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"], rs["original_max_position_embeddings"]
        wl = 2 * math.pi / inv
        out = torch.empty_like(inv)
        for i in range(len(inv)):
            if wl[i] < old / hi:
                out[i] = inv[i]
            elif wl[i] > old / lo:
                out[i] = inv[i] / f
            else:
                s = (old / wl[i] - lo) / (hi - lo)
                out[i] = (1 - s) * inv[i] / f + s * inv[i]
        return out, 1.0
    if kind == "yarn":
        orig = rs.get("original_max_position_embeddings", c["max_position_embeddings"])
        f = c["max_position_embeddings"] / orig if "original_max_position_embeddings" in rs else rs["factor"]
        att = rs.get("attention_factor") or (0.1 * math.log(f) + 1.0 if f > 1 else 1.0)
        bf, bs = rs.get("beta_fast") or 32, rs.get("beta_slow") or 1

        def corr(rot):
            return dim * math.log(orig / (rot * 2 * math.pi)) / (2 * math.log(base))

        lo, hi = max(math.floor(corr(bf)), 0), min(math.ceil(corr(bs)), dim - 1)
        if lo == hi:
            hi += 0.001
        ramp = ((torch.arange(dim // 2, dtype=torch.float64) - lo) / (hi - lo)).clamp(0, 1)
        extra = default_inv_freq(base, dim)
        inter = extra / f
        keep = 1 - ramp
        return inter * (1 - keep) + extra * keep, att
    if kind in ("longrope", "su"):
        orig = c["original_max_position_embeddings"]
        f = c["max_position_embeddings"] / orig
        att = rs.get("attention_factor") or (1.0 if f <= 1 else math.sqrt(1 + math.log(f) / math.log(orig)))
        ext = torch.tensor(rs["long_factor"] if seq_len > orig else rs["short_factor"], dtype=torch.float64)
        return default_inv_freq(base, dim) / ext, att
    raise SystemExit("reference: rope type %s" % kind)


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), -1)


def rope(x, inv, att):
    """x [heads, T, dh]; rotates the first 2*len(inv) dims (rotate_half layout)."""
    T, rd = x.shape[1], 2 * len(inv)
    freqs = torch.outer(torch.arange(T, dtype=torch.float64), inv)
    emb = torch.cat((freqs, freqs), -1)
    cos, sin = emb.cos() * att, emb.sin() * att
    xr, xp = x[..., :rd], x[..., rd:]
    return torch.cat((xr * cos + rotate_half(xr) * sin, xp), -1)


# ---------------------------------------------------------------- forward

def rms(x, w, eps, gemma):
    y = x * torch.rsqrt((x * x).mean(-1, keepdim=True) + eps)
    return y * (1.0 + w) if gemma else y * w


def gelu_tanh(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def window_of(c, l):
    mt = c["model_type"]
    if mt in ("mistral", "phi3"):
        return c.get("sliding_window") or 0
    if mt in ("qwen2", "qwen3"):
        return c["sliding_window"] if c.get("use_sliding_window") and l >= c["max_window_layers"] else 0
    if mt == "gemma2":
        return c["sliding_window"] if l % 2 == 0 else 0
    if mt == "gemma3_text":
        return c["sliding_window"] if (l + 1) % c.get("sliding_window_pattern", 6) != 0 else 0
    return 0


def forward(t, c, ids):
    mt = c["model_type"]
    gemma = mt.startswith("gemma")
    T, dh, eps = len(ids), head_dim(c), c["rms_norm_eps"]
    rd = int(dh * c.get("partial_rotary_factor", 1.0))
    n = lambda x, name: rms(x, t[name], eps, gemma)  # noqa: E731
    x = t["model.embed_tokens.weight"][ids]
    if gemma:
        x = x * math.sqrt(c["hidden_size"])
    scale = c["query_pre_attn_scalar"] ** -0.5 if mt in ("gemma2", "gemma3_text") else dh ** -0.5
    cap = c.get("attn_logit_softcapping") if mt in ("gemma2", "gemma3_text") else None
    patterns = []
    for l in range(c["num_hidden_layers"]):
        p = "model.layers.%d." % l
        w = window_of(c, l)
        h = x if mt == "olmo2" else n(x, p + "input_layernorm.weight")

        def lin(a, name):
            y = a @ t[name + ".weight"].T
            return y + t[name + ".bias"] if name + ".bias" in t else y

        if mt == "phi3":
            qkv = lin(h, p + "self_attn.qkv_proj")
            q, k, v = qkv[:, :H * dh], qkv[:, H * dh:(H + K) * dh], qkv[:, (H + K) * dh:]
        else:
            q, k, v = lin(h, p + "self_attn.q_proj"), lin(h, p + "self_attn.k_proj"), lin(h, p + "self_attn.v_proj")
        if mt == "olmo2":  # norm over the whole projection
            q, k = n(q, p + "self_attn.q_norm.weight"), n(k, p + "self_attn.k_norm.weight")
        q, k, v = [z.view(T, -1, dh).transpose(0, 1) for z in (q, k, v)]
        if mt in ("qwen3", "gemma3_text"):  # per head
            q, k = n(q, p + "self_attn.q_norm.weight"), n(k, p + "self_attn.k_norm.weight")
        if mt == "gemma3_text" and w:
            inv, att = default_inv_freq(c["rope_local_base_freq"], rd), 1.0
        else:
            inv, att = inv_freq_and_scale(c, rd, T, c.get("rope_theta", 10000.0))
        q, k = rope(q, inv, att), rope(k, inv, att)
        k, v = k.repeat_interleave(H // K, 0), v.repeat_interleave(H // K, 0)
        s = (q @ k.transpose(-1, -2)) * scale
        if cap:
            s = torch.tanh(s / cap) * cap
        i = torch.arange(T).unsqueeze(1)
        j = torch.arange(T).unsqueeze(0)
        hidden = j > i
        if w:
            hidden = hidden | (i - j >= w)
        s = s.masked_fill(hidden, float("-inf"))
        pat = torch.softmax(s, -1)
        patterns.append(pat)
        o = lin((pat @ v).transpose(0, 1).reshape(T, -1), p + "self_attn.o_proj")
        if mt in ("gemma2", "gemma3_text", "olmo2"):
            o = n(o, p + "post_attention_layernorm.weight")
        x = x + o
        if mt in ("gemma2", "gemma3_text"):
            h = n(x, p + "pre_feedforward_layernorm.weight")
        elif mt == "olmo2":
            h = x
        else:
            h = n(x, p + "post_attention_layernorm.weight")
        if mt == "phi3":
            gu = lin(h, p + "mlp.gate_up_proj")
            gate, up = gu[:, :M], gu[:, M:]
        else:
            gate, up = lin(h, p + "mlp.gate_proj"), lin(h, p + "mlp.up_proj")
        act = gelu_tanh if gemma else torch.nn.functional.silu
        f = lin(act(gate) * up, p + "mlp.down_proj")
        if mt in ("gemma2", "gemma3_text", "olmo2"):
            f = n(f, p + "post_feedforward_layernorm.weight")
        x = x + f
    x = n(x, "model.norm.weight")
    W_U = t["model.embed_tokens.weight"] if c["tie_word_embeddings"] else t["lm_head.weight"]
    logits = x @ W_U.T
    fcap = c.get("final_logit_softcapping") if mt in ("gemma2", "gemma3_text") else None
    if fcap:
        logits = torch.tanh(logits / fcap) * fcap
    return logits, patterns


def write_mode(make, argv, edit=None):
    """write VARIANT OUT_DIR [--seed S] [--dtype T] [--shards N] [--drop TENSOR]; `edit(tensors, flags)`
    may change the tensors before they are written."""
    variant, out = argv[0], argv[1]
    a = flags(argv[2:])
    g = torch.Generator().manual_seed(int(a.get("seed", 0)))
    t, c = make(variant, g)
    if "drop" in a:  # a broken checkpoint for the error tests
        del t[a["drop"]]
    if edit:
        edit(t, a)
    write_checkpoint(out, t, c, a.get("dtype", "F32"), int(a.get("shards", 1)))


def main():
    mode = sys.argv[1]
    if mode == "variants":
        print("\n".join(VARIANTS))
    elif mode == "write":
        write_mode(make, sys.argv[2:])
    elif mode == "logits":
        d, ids = sys.argv[2], json.loads(sys.argv[3])
        a = flags(sys.argv[4:])
        c = json.load(open(os.path.join(d, "config.json")))
        logits, patterns = forward(load_dir(d), c, torch.tensor(ids))
        json.dump({"logits": logits.tolist(), "pattern": patterns[int(a.get("layer", 0))].tolist()}, sys.stdout)
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
