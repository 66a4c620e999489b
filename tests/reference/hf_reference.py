#!/usr/bin/env python3
"""Independent reference for Hugging Face checkpoints (gpt2, gpt_neox, llama/mistral/qwen2).

Written from the Hugging Face modeling semantics with Debian's python3-torch, not from
headscope's code. It writes small random checkpoints in real HF layout (config.json + safetensors
written by hand, optionally sharded with model.safetensors.index.json, plus a byte-level
tokenizer.json) and computes their logits and attention patterns.

usage:
  hf_reference.py write FAMILY OUT_DIR [--seed S] [--gqa] [--tied] [--bias] [--shards N]
                        [--dtype F32|F16|BF16] [--no-parallel]
  hf_reference.py logits DIR IDS_JSON [--layer L]     -> {"logits": [...], "pattern": [...]}
  hf_reference.py from-llama2c MODEL.bin OUT_DIR      -> stories260K in HF llama layout
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch

torch.set_grad_enabled(False)

# ---------------------------------------------------------------- safetensors by hand

DTYPES = {"F32": (torch.float32, 4), "F16": (torch.float16, 2), "BF16": (torch.bfloat16, 2)}


def tensor_bytes(t, dtype):
    t = t.to(DTYPES[dtype][0]).contiguous()
    if dtype == "BF16":
        return t.view(torch.int16).numpy().tobytes()
    return t.numpy().tobytes()


def write_safetensors(path, tensors, dtype="F32"):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        data = tensor_bytes(t, dtype)
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        raw = data[base + b:base + e]
        if info["dtype"] == "BF16":
            t = torch.from_numpy(np.frombuffer(raw, dtype="<i2").copy()).view(torch.bfloat16)
        else:
            t = torch.from_numpy(np.frombuffer(raw, dtype={"F32": "<f4", "F16": "<f2"}[info["dtype"]]).copy())
        out[name] = t.reshape(info["shape"]).to(torch.float64)
    return out


def load_dir(d):
    index = os.path.join(d, "model.safetensors.index.json")
    if os.path.exists(index):
        files = sorted(set(json.load(open(index))["weight_map"].values()))
    else:
        files = ["model.safetensors"]
    tensors = {}
    for f in files:
        tensors.update(read_safetensors(os.path.join(d, f)))
    return tensors


def write_checkpoint(out, tensors, config, dtype, shards):
    os.makedirs(out, exist_ok=True)
    json.dump(config, open(os.path.join(out, "config.json"), "w"), indent=2)
    names = list(tensors)
    if shards <= 1:
        write_safetensors(os.path.join(out, "model.safetensors"), tensors, dtype)
    else:
        weight_map = {}
        per = math.ceil(len(names) / shards)
        for s in range(shards):
            part = names[s * per:(s + 1) * per]
            fname = "model-%05d-of-%05d.safetensors" % (s + 1, shards)
            write_safetensors(os.path.join(out, fname), {n: tensors[n] for n in part}, dtype)
            weight_map.update({n: fname for n in part})
        json.dump({"metadata": {"total_size": 0}, "weight_map": weight_map},
                  open(os.path.join(out, "model.safetensors.index.json"), "w"), indent=2)
    write_byte_tokenizer(out)


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def write_byte_tokenizer(out):
    """A byte-level BPE tokenizer.json with the 256 byte tokens and no merges."""
    b2u = bytes_to_unicode()
    vocab = {b2u[b]: b for b in range(256)}
    tok = {
        "version": "1.0",
        "added_tokens": [],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "vocab": vocab, "merges": []},
    }
    json.dump(tok, open(os.path.join(out, "tokenizer.json"), "w"))


# ---------------------------------------------------------------- random checkpoints

def rnd(g, *shape, scale=0.08):
    return torch.randn(*shape, generator=g, dtype=torch.float64) * scale


def sizes(a, d, L, H, V, ctx):
    """Default sizes, overridable with --d-model/--layers/--heads/--vocab/--ctx (benchmarks)."""
    return (int(a.get("d_model", d)), int(a.get("layers", L)), int(a.get("heads", H)), int(a.get("vocab", V)),
            int(a.get("ctx", ctx)))


def make_gpt2(g, a):
    d, L, H, V, ctx = sizes(a, 64, 2, 4, 512, 64)
    t = {"transformer.wte.weight": rnd(g, V, d, scale=0.3), "transformer.wpe.weight": rnd(g, ctx, d, scale=0.3)}
    for l in range(L):
        p = "transformer.h.%d." % l
        t[p + "ln_1.weight"] = 1 + rnd(g, d)
        t[p + "ln_1.bias"] = rnd(g, d)
        t[p + "attn.c_attn.weight"] = rnd(g, d, 3 * d, scale=0.2)
        t[p + "attn.c_attn.bias"] = rnd(g, 3 * d)
        t[p + "attn.c_proj.weight"] = rnd(g, d, d)
        t[p + "attn.c_proj.bias"] = rnd(g, d)
        t[p + "ln_2.weight"] = 1 + rnd(g, d)
        t[p + "ln_2.bias"] = rnd(g, d)
        t[p + "mlp.c_fc.weight"] = rnd(g, d, 4 * d)
        t[p + "mlp.c_fc.bias"] = rnd(g, 4 * d)
        t[p + "mlp.c_proj.weight"] = rnd(g, 4 * d, d)
        t[p + "mlp.c_proj.bias"] = rnd(g, d)
    t["transformer.ln_f.weight"] = 1 + rnd(g, d)
    t["transformer.ln_f.bias"] = rnd(g, d)
    config = {"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "n_embd": d, "n_layer": L, "n_head": H,
              "n_positions": ctx, "vocab_size": V, "layer_norm_epsilon": 1e-5, "activation_function": "gelu_new",
              "n_inner": None, "bos_token_id": 0, "eos_token_id": 0}
    return t, config


def make_neox(g, a):
    d, L, H, V, ctx = sizes(a, 64, 2, 4, 512, 64)
    dh = d // H
    t = {"gpt_neox.embed_in.weight": rnd(g, V, d, scale=0.3), "embed_out.weight": rnd(g, V, d, scale=0.3)}
    for l in range(L):
        p = "gpt_neox.layers.%d." % l
        t[p + "input_layernorm.weight"] = 1 + rnd(g, d)
        t[p + "input_layernorm.bias"] = rnd(g, d)
        t[p + "post_attention_layernorm.weight"] = 1 + rnd(g, d)
        t[p + "post_attention_layernorm.bias"] = rnd(g, d)
        t[p + "attention.query_key_value.weight"] = rnd(g, 3 * d, d, scale=0.2)
        t[p + "attention.query_key_value.bias"] = rnd(g, 3 * d)
        t[p + "attention.dense.weight"] = rnd(g, d, d)
        t[p + "attention.dense.bias"] = rnd(g, d)
        t[p + "mlp.dense_h_to_4h.weight"] = rnd(g, 4 * d, d)
        t[p + "mlp.dense_h_to_4h.bias"] = rnd(g, 4 * d)
        t[p + "mlp.dense_4h_to_h.weight"] = rnd(g, d, 4 * d)
        t[p + "mlp.dense_4h_to_h.bias"] = rnd(g, d)
    t["gpt_neox.final_layer_norm.weight"] = 1 + rnd(g, d)
    t["gpt_neox.final_layer_norm.bias"] = rnd(g, d)
    config = {"model_type": "gpt_neox", "architectures": ["GPTNeoXForCausalLM"], "hidden_size": d,
              "num_hidden_layers": L, "num_attention_heads": H, "intermediate_size": 4 * d,
              "max_position_embeddings": ctx, "vocab_size": V, "rotary_pct": 0.25, "rotary_emb_base": 10000,
              "layer_norm_eps": 1e-5, "use_parallel_residual": not a.get("no_parallel", False),
              "hidden_act": "gelu", "tie_word_embeddings": False, "bos_token_id": 0, "eos_token_id": 0}
    return t, config


def make_llama(g, a, model_type):
    d, L, H, V, ctx = sizes(a, 64, 2, 8, 512, 128)
    m = int(a.get("d_mlp", 96))
    K = 2 if a.get("gqa") else H
    dh = d // H
    bias = a.get("bias", False)
    t = {"model.embed_tokens.weight": rnd(g, V, d, scale=0.3)}
    for l in range(L):
        p = "model.layers.%d." % l
        t[p + "input_layernorm.weight"] = 1 + rnd(g, d)
        t[p + "post_attention_layernorm.weight"] = 1 + rnd(g, d)
        t[p + "self_attn.q_proj.weight"] = rnd(g, H * dh, d, scale=0.2)
        t[p + "self_attn.k_proj.weight"] = rnd(g, K * dh, d, scale=0.2)
        t[p + "self_attn.v_proj.weight"] = rnd(g, K * dh, d)
        t[p + "self_attn.o_proj.weight"] = rnd(g, d, H * dh)
        if bias:
            t[p + "self_attn.q_proj.bias"] = rnd(g, H * dh)
            t[p + "self_attn.k_proj.bias"] = rnd(g, K * dh)
            t[p + "self_attn.v_proj.bias"] = rnd(g, K * dh)
        t[p + "mlp.gate_proj.weight"] = rnd(g, m, d)
        t[p + "mlp.up_proj.weight"] = rnd(g, m, d)
        t[p + "mlp.down_proj.weight"] = rnd(g, d, m)
    t["model.norm.weight"] = 1 + rnd(g, d)
    tied = a.get("tied", False)
    if not tied:
        t["lm_head.weight"] = rnd(g, V, d, scale=0.3)
    config = {"model_type": model_type, "hidden_size": d, "num_hidden_layers": L, "num_attention_heads": H,
              "num_key_value_heads": K, "intermediate_size": m, "max_position_embeddings": ctx, "vocab_size": V,
              "rms_norm_eps": 1e-6, "rope_theta": 500000.0 if model_type != "llama" else 10000.0,
              "hidden_act": "silu", "tie_word_embeddings": tied, "bos_token_id": 1, "eos_token_id": 2}
    return t, config


# ---------------------------------------------------------------- reference forward passes

def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + eps) * w + b


def rms_norm(x, w, eps):
    return x * torch.rsqrt((x * x).mean(-1, keepdim=True) + eps) * w


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def attend(q, k, v):
    """q [H,T,dh], k/v [H,T,dh] (already repeated for GQA) -> out [T, H*dh], pattern [H,T,T]."""
    T, dh = q.shape[1], q.shape[2]
    scores = q @ k.transpose(-1, -2) / math.sqrt(dh)
    mask = torch.triu(torch.ones(T, T, dtype=torch.bool), 1)
    scores = scores.masked_fill(mask, float("-inf"))
    p = torch.softmax(scores, -1)
    return (p @ v).transpose(0, 1).reshape(T, -1), p


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), -1)


def rope_half(x, rd, base):
    """HF rotary (rotate_half) on the first rd dims of x [H,T,dh]."""
    T = x.shape[1]
    inv_freq = 1.0 / (base ** (torch.arange(0, rd, 2, dtype=torch.float64) / rd))
    freqs = torch.outer(torch.arange(T, dtype=torch.float64), inv_freq)
    emb = torch.cat((freqs, freqs), -1)
    cos, sin = emb.cos(), emb.sin()
    xr, xp = x[..., :rd], x[..., rd:]
    return torch.cat((xr * cos + rotate_half(xr) * sin, xp), -1)


def forward_gpt2(t, c, ids):
    pre = "transformer." if "transformer.wte.weight" in t else ""
    d, H = c["n_embd"], c["n_head"]
    dh, eps = d // H, c["layer_norm_epsilon"]
    x = t[pre + "wte.weight"][ids] + t[pre + "wpe.weight"][: len(ids)]
    patterns = []
    for l in range(c["n_layer"]):
        p = pre + "h.%d." % l
        a = layer_norm(x, t[p + "ln_1.weight"], t[p + "ln_1.bias"], eps)
        qkv = a @ t[p + "attn.c_attn.weight"] + t[p + "attn.c_attn.bias"]
        q, k, v = [z.reshape(len(ids), H, dh).transpose(0, 1) for z in qkv.split(d, -1)]
        o, pat = attend(q, k, v)
        patterns.append(pat)
        x = x + o @ t[p + "attn.c_proj.weight"] + t[p + "attn.c_proj.bias"]
        m = layer_norm(x, t[p + "ln_2.weight"], t[p + "ln_2.bias"], eps)
        x = x + gelu_new(m @ t[p + "mlp.c_fc.weight"] + t[p + "mlp.c_fc.bias"]) @ t[p + "mlp.c_proj.weight"] + t[p + "mlp.c_proj.bias"]
    x = layer_norm(x, t[pre + "ln_f.weight"], t[pre + "ln_f.bias"], eps)
    return x @ t[pre + "wte.weight"].T, patterns


def forward_neox(t, c, ids):
    d, H = c["hidden_size"], c["num_attention_heads"]
    dh, eps, T = d // H, c["layer_norm_eps"], len(ids)
    rd = int(dh * c.get("rotary_pct", 1.0))
    base = c.get("rotary_emb_base", 10000)
    act = {"gelu": torch.nn.functional.gelu, "gelu_new": gelu_new}[c.get("hidden_act", "gelu")]
    x = t["gpt_neox.embed_in.weight"][ids]
    patterns = []
    for l in range(c["num_hidden_layers"]):
        p = "gpt_neox.layers.%d." % l
        a = layer_norm(x, t[p + "input_layernorm.weight"], t[p + "input_layernorm.bias"], eps)
        qkv = (a @ t[p + "attention.query_key_value.weight"].T + t[p + "attention.query_key_value.bias"])
        qkv = qkv.view(T, H, 3 * dh).transpose(0, 1)
        q, k, v = qkv[..., :dh], qkv[..., dh:2 * dh], qkv[..., 2 * dh:]
        q, k = rope_half(q, rd, base), rope_half(k, rd, base)
        o, pat = attend(q, k, v)
        patterns.append(pat)
        attn_out = o @ t[p + "attention.dense.weight"].T + t[p + "attention.dense.bias"]

        def mlp(h):
            h = act(h @ t[p + "mlp.dense_h_to_4h.weight"].T + t[p + "mlp.dense_h_to_4h.bias"])
            return h @ t[p + "mlp.dense_4h_to_h.weight"].T + t[p + "mlp.dense_4h_to_h.bias"]

        ln2 = lambda h: layer_norm(h, t[p + "post_attention_layernorm.weight"], t[p + "post_attention_layernorm.bias"], eps)
        if c.get("use_parallel_residual", True):
            x = x + attn_out + mlp(ln2(x))
        else:
            x = x + attn_out
            x = x + mlp(ln2(x))
    x = layer_norm(x, t["gpt_neox.final_layer_norm.weight"], t["gpt_neox.final_layer_norm.bias"], eps)
    W_U = t["gpt_neox.embed_in.weight"] if c.get("tie_word_embeddings") else t["embed_out.weight"]
    return x @ W_U.T, patterns


def forward_llama(t, c, ids):
    d, H = c["hidden_size"], c["num_attention_heads"]
    K = c.get("num_key_value_heads", H)
    dh = c.get("head_dim", d // H)
    eps, T, base = c["rms_norm_eps"], len(ids), c.get("rope_theta", 10000.0)
    x = t["model.embed_tokens.weight"][ids]
    patterns = []
    for l in range(c["num_hidden_layers"]):
        p = "model.layers.%d." % l
        a = rms_norm(x, t[p + "input_layernorm.weight"], eps)

        def proj(name, heads):
            y = a @ t[p + "self_attn.%s.weight" % name].T
            if p + "self_attn.%s.bias" % name in t:
                y = y + t[p + "self_attn.%s.bias" % name]
            return y.view(T, heads, dh).transpose(0, 1)

        q, k, v = proj("q_proj", H), proj("k_proj", K), proj("v_proj", K)
        q, k = rope_half(q, dh, base), rope_half(k, dh, base)
        k, v = k.repeat_interleave(H // K, 0), v.repeat_interleave(H // K, 0)
        o, pat = attend(q, k, v)
        patterns.append(pat)
        x = x + o @ t[p + "self_attn.o_proj.weight"].T
        m = rms_norm(x, t[p + "post_attention_layernorm.weight"], eps)
        gate = m @ t[p + "mlp.gate_proj.weight"].T
        up = m @ t[p + "mlp.up_proj.weight"].T
        x = x + (torch.nn.functional.silu(gate) * up) @ t[p + "mlp.down_proj.weight"].T
    x = rms_norm(x, t["model.norm.weight"], eps)
    W_U = t["model.embed_tokens.weight"] if c.get("tie_word_embeddings") else t["lm_head.weight"]
    return x @ W_U.T, patterns


FORWARD = {"gpt2": forward_gpt2, "gpt_neox": forward_neox, "llama": forward_llama, "mistral": forward_llama,
           "qwen2": forward_llama}


# ---------------------------------------------------------------- llama2.c -> HF llama

def from_llama2c(path, out):
    data = open(path, "rb").read()
    dim, hidden, L, H, K, V, ctx = struct.unpack("<7i", data[:28])
    shared = V > 0
    V = abs(V)
    dh = dim // H
    w = torch.from_numpy(np.frombuffer(data, dtype="<f4", offset=28).copy())
    pos = 0

    def take(*shape):
        nonlocal pos
        n = int(np.prod(shape))
        r = w[pos:pos + n].reshape(shape)
        pos += n
        return r

    emb = take(V, dim)
    rms_att = take(L, dim)
    wq, wk, wv, wo = take(L, H * dh, dim), take(L, K * dh, dim), take(L, K * dh, dim), take(L, dim, H * dh)
    rms_ffn = take(L, dim)
    w1, w2, w3 = take(L, hidden, dim), take(L, dim, hidden), take(L, hidden, dim)
    norm = take(dim)
    take(ctx, dh // 2)
    take(ctx, dh // 2)
    wcls = emb if shared else take(V, dim)

    def permute(m, heads):
        # Meta (interleaved pairs) -> HF (rotate_half), as transformers' convert_llama_weights_to_hf does.
        rows, cols = m.shape
        return m.view(heads, rows // heads // 2, 2, cols).transpose(1, 2).reshape(rows, cols)

    t = {"model.embed_tokens.weight": emb, "model.norm.weight": norm}
    for l in range(L):
        p = "model.layers.%d." % l
        t[p + "input_layernorm.weight"] = rms_att[l]
        t[p + "post_attention_layernorm.weight"] = rms_ffn[l]
        t[p + "self_attn.q_proj.weight"] = permute(wq[l], H)
        t[p + "self_attn.k_proj.weight"] = permute(wk[l], K)
        t[p + "self_attn.v_proj.weight"] = wv[l]
        t[p + "self_attn.o_proj.weight"] = wo[l]
        t[p + "mlp.gate_proj.weight"] = w1[l]
        t[p + "mlp.up_proj.weight"] = w3[l]
        t[p + "mlp.down_proj.weight"] = w2[l]
    if not shared:
        t["lm_head.weight"] = wcls
    config = {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": dim,
              "num_hidden_layers": L, "num_attention_heads": H, "num_key_value_heads": K,
              "intermediate_size": hidden, "max_position_embeddings": ctx, "vocab_size": V, "rms_norm_eps": 1e-5,
              "rope_theta": 10000.0, "hidden_act": "silu", "tie_word_embeddings": shared,
              "bos_token_id": 1, "eos_token_id": 2}
    write_checkpoint(out, t, config, "F32", 1)


# ---------------------------------------------------------------- main

def flags(argv):
    a = {}
    i = 0
    while i < len(argv):
        k = argv[i].lstrip("-").replace("-", "_")
        if i + 1 < len(argv) and not argv[i + 1].startswith("--"):
            a[k] = argv[i + 1]
            i += 2
        else:
            a[k] = True
            i += 1
    return a


def main():
    mode = sys.argv[1]
    if mode == "write":
        family, out = sys.argv[2], sys.argv[3]
        a = flags(sys.argv[4:])
        g = torch.Generator().manual_seed(int(a.get("seed", 0)))
        if family == "gpt2":
            t, c = make_gpt2(g, a)
        elif family == "gpt_neox":
            t, c = make_neox(g, a)
        else:
            t, c = make_llama(g, a, family)
        write_checkpoint(out, t, c, a.get("dtype", "F32"), int(a.get("shards", 1)))
    elif mode == "logits":
        d, ids = sys.argv[2], json.loads(sys.argv[3])
        a = flags(sys.argv[4:])
        c = json.load(open(os.path.join(d, "config.json")))
        t = load_dir(d)
        logits, patterns = FORWARD[c["model_type"]](t, c, torch.tensor(ids))
        layer = int(a.get("layer", 0))
        json.dump({"logits": logits.tolist(), "pattern": patterns[layer].tolist()}, sys.stdout)
    elif mode == "from-llama2c":
        from_llama2c(sys.argv[2], sys.argv[3])
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
