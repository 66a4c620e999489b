#!/usr/bin/env python3
"""The peer for bench/forward: the same Hugging Face checkpoint run by PyTorch-Python eager, as
an idiomatic nn.Module whose attention exposes its pattern through an identity submodule, with
forward hooks caching every attention pattern (the TransformerLens way). Float32, same threads.

usage: python_peer.py DIR TOKENS REPEATS THREADS   -> prints JSON {"seconds": median}
"""
import json
import math
import os
import statistics
import sys
import time

import torch
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "reference"))
from hf_reference import load_dir  # noqa: E402  (reads safetensors by hand)


class Attention(nn.Module):
    def __init__(self, d, heads, rotary_dim=0, base=10000.0, neox=False):
        super().__init__()
        self.h, self.dh, self.rd, self.base, self.neox = heads, d // heads, rotary_dim, base, neox
        self.qkv = nn.Linear(d, 3 * d)
        self.out = nn.Linear(d, d)
        self.hook_pattern = nn.Identity()

    def rotate(self, x):
        T, rd = x.shape[2], self.rd
        inv = 1.0 / (self.base ** (torch.arange(0, rd, 2, dtype=torch.float32) / rd))
        f = torch.outer(torch.arange(T, dtype=torch.float32), inv)
        emb = torch.cat((f, f), -1)
        xr, xp = x[..., :rd], x[..., rd:]
        x1, x2 = xr[..., : rd // 2], xr[..., rd // 2:]
        return torch.cat((xr * emb.cos() + torch.cat((-x2, x1), -1) * emb.sin(), xp), -1)

    def forward(self, x):
        B, T, _ = x.shape
        qkv = self.qkv(x)
        if self.neox:
            qkv = qkv.view(B, T, self.h, 3 * self.dh).transpose(1, 2)
            q, k, v = qkv.split(self.dh, -1)
            q, k = self.rotate(q), self.rotate(k)
        else:
            q, k, v = [z.view(B, T, self.h, self.dh).transpose(1, 2) for z in qkv.split(self.h * self.dh, -1)]
        s = q @ k.transpose(-1, -2) / math.sqrt(self.dh)
        s = s.masked_fill(torch.triu(torch.ones(T, T, dtype=torch.bool), 1), float("-inf"))
        p = self.hook_pattern(torch.softmax(s, -1))
        return self.out((p @ v).transpose(1, 2).reshape(B, T, -1))


class Block(nn.Module):
    def __init__(self, d, heads, eps, parallel, act, **kw):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d, eps=eps), nn.LayerNorm(d, eps=eps)
        self.attn = Attention(d, heads, **kw)
        self.fc_in, self.fc_out = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)
        self.act, self.parallel = act, parallel

    def forward(self, x):
        mlp = lambda h: self.fc_out(self.act(self.fc_in(h)))
        if self.parallel:
            return x + self.attn(self.ln1(x)) + mlp(self.ln2(x))
        x = x + self.attn(self.ln1(x))
        return x + mlp(self.ln2(x))


class Model(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.gpt2 = c["model_type"] == "gpt2"
        if self.gpt2:
            d, L, H, V, eps = c["n_embd"], c["n_layer"], c["n_head"], c["vocab_size"], c["layer_norm_epsilon"]
            self.pos = nn.Embedding(c["n_positions"], d)
            kw = {}
            act = lambda x: torch.nn.functional.gelu(x, approximate="tanh")
        else:
            d, L, H, V, eps = c["hidden_size"], c["num_hidden_layers"], c["num_attention_heads"], c["vocab_size"], c["layer_norm_eps"]
            kw = {"rotary_dim": int(d // H * c["rotary_pct"]), "base": c["rotary_emb_base"], "neox": True}
            act = torch.nn.functional.gelu
        self.embed = nn.Embedding(V, d)
        self.blocks = nn.ModuleList(Block(d, H, eps, not self.gpt2 and c["use_parallel_residual"], act, **kw) for _ in range(L))
        self.ln_f = nn.LayerNorm(d, eps=eps)
        self.unembed = nn.Linear(d, V, bias=False)

    def forward(self, ids):
        x = self.embed(ids)
        if self.gpt2:
            x = x + self.pos(torch.arange(ids.shape[1]))
        for b in self.blocks:
            x = b(x)
        return self.unembed(self.ln_f(x))


def load(d):
    c = json.load(open(os.path.join(d, "config.json")))
    t = {k: v.float() for k, v in load_dir(d).items()}
    m = Model(c)
    sd = {}
    if m.gpt2:
        p = "transformer."
        sd["embed.weight"], sd["pos.weight"] = t[p + "wte.weight"], t[p + "wpe.weight"]
        sd["unembed.weight"] = t[p + "wte.weight"]
        sd["ln_f.weight"], sd["ln_f.bias"] = t[p + "ln_f.weight"], t[p + "ln_f.bias"]
        for l in range(len(m.blocks)):
            h, b = p + "h.%d." % l, "blocks.%d." % l
            for ours, theirs in (("ln1", "ln_1"), ("ln2", "ln_2")):
                sd[b + ours + ".weight"], sd[b + ours + ".bias"] = t[h + theirs + ".weight"], t[h + theirs + ".bias"]
            for ours, theirs in (("attn.qkv", "attn.c_attn"), ("attn.out", "attn.c_proj"), ("fc_in", "mlp.c_fc"), ("fc_out", "mlp.c_proj")):
                sd[b + ours + ".weight"], sd[b + ours + ".bias"] = t[h + theirs + ".weight"].T, t[h + theirs + ".bias"]
    else:
        sd["embed.weight"], sd["unembed.weight"] = t["gpt_neox.embed_in.weight"], t["embed_out.weight"]
        sd["ln_f.weight"], sd["ln_f.bias"] = t["gpt_neox.final_layer_norm.weight"], t["gpt_neox.final_layer_norm.bias"]
        for l in range(len(m.blocks)):
            h, b = "gpt_neox.layers.%d." % l, "blocks.%d." % l
            pairs = (("ln1", "input_layernorm"), ("ln2", "post_attention_layernorm"), ("attn.qkv", "attention.query_key_value"),
                     ("attn.out", "attention.dense"), ("fc_in", "mlp.dense_h_to_4h"), ("fc_out", "mlp.dense_4h_to_h"))
            for ours, theirs in pairs:
                sd[b + ours + ".weight"], sd[b + ours + ".bias"] = t[h + theirs + ".weight"], t[h + theirs + ".bias"]
    m.load_state_dict({k: v.contiguous() for k, v in sd.items()})
    return m.eval()


def main():
    d, T, repeats, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    torch.set_num_threads(threads)
    torch.set_grad_enabled(False)
    model = load(d)
    cache = {}
    for i, b in enumerate(model.blocks):
        b.attn.hook_pattern.register_forward_hook(lambda mod, inp, out, i=i: cache.__setitem__(i, out.detach()))
    ids = torch.randint(0, model.embed.num_embeddings, (1, T), generator=torch.Generator().manual_seed(1))
    model(ids)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        model(ids)
        times.append(time.perf_counter() - t0)
    assert len(cache) == len(model.blocks)
    print(json.dumps({"seconds": statistics.median(times), "logits_sum": float(model(ids).sum())}))


if __name__ == "__main__":
    main()
