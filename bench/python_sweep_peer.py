#!/usr/bin/env python3
"""The peer for bench/intervention_sweep: exhaustive zero ablation of every head the
TransformerLens way — one hooked forward pass per head, batched over the prompts, the hook on
the attention's hook_z zeroing that head, full logits, the metric read at the final position.
The model is bench/python_peer.py's eager GPT-2 (same checkpoint, float32, same threads).

usage: python_sweep_peer.py DIR PROMPTS_JSON THREADS   -> prints JSON {"seconds": s, "effects": [...]}
PROMPTS_JSON: {"ids": [[...]], "answer": [...], "alternative": [...]}
"""
import json
import math
import os
import sys
import time

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(__file__))
import python_peer  # noqa: E402


def attention_with_hook_z(self, x):
    B, T, _ = x.shape
    q, k, v = [z.view(B, T, self.h, self.dh).transpose(1, 2) for z in self.qkv(x).split(self.h * self.dh, -1)]
    s = q @ k.transpose(-1, -2) / math.sqrt(self.dh)
    s = s.masked_fill(torch.triu(torch.ones(T, T, dtype=torch.bool), 1), float("-inf"))
    p = self.hook_pattern(torch.softmax(s, -1))
    z = self.hook_z((p @ v).transpose(1, 2))  # [B, T, H, dh], as TransformerLens' hook_z
    return self.out(z.reshape(B, T, -1))


def main():
    d, prompts, threads = sys.argv[1], json.load(open(sys.argv[2])), int(sys.argv[3])
    torch.set_num_threads(threads)
    torch.set_grad_enabled(False)
    model = python_peer.load(d)
    assert model.gpt2, "the sweep peer runs GPT-2 checkpoints"
    for b in model.blocks:
        b.attn.hook_z = nn.Identity()
        b.attn.forward = attention_with_hook_z.__get__(b.attn)
    ids = torch.tensor(prompts["ids"])
    ans, alt = torch.tensor(prompts["answer"]), torch.tensor(prompts["alternative"])
    rows = torch.arange(ids.shape[0])

    def metric(logits):
        last = logits[:, -1]
        return (last[rows, ans] - last[rows, alt]).double()

    clean = metric(model(ids))
    effects = []
    t0 = time.perf_counter()
    for b in model.blocks:
        for h in range(b.attn.h):
            def zero(mod, inp, out, h=h):
                out = out.clone()
                out[:, :, h] = 0
                return out
            handle = b.attn.hook_z.register_forward_hook(zero)
            try:
                effects.append(float((metric(model(ids)) - clean).mean()))
            finally:
                handle.remove()
    seconds = time.perf_counter() - t0
    print(json.dumps({"seconds": seconds, "effects": effects}))


if __name__ == "__main__":
    main()
