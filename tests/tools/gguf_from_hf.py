#!/usr/bin/python3
"""Converts a small Hugging Face checkpoint directory (config.json, model.safetensors, tokenizer.json,
as tests/reference writes them) to GGUF the way llama.cpp's convert_hf_to_gguf.py lays each family
out: llama.cpp's architecture names and {arch}.* metadata keys, tensor names (token_embd,
blk.N.attn_q, post_attention_norm, ffn_gate_exps, ...), experts stacked into [E, out, in] tensors,
Gemma norm weights stored with the 1 of (1 + w) added, and the byte-level tokenizer as a "gpt2"
vocabulary. Families: llama (q/k rows permuted for llama.cpp's adjacent-pair rotation, llama3
rotary scaling stored as rope_freqs.weight), mixtral (arch llama with experts), qwen2, qwen3, gemma,
gemma2, gemma3_text, phi3 (longrope factors as rope_factors_long/short tensors), olmo2, qwen2_moe
(all layers sparse), qwen3_moe, olmoe.

The GGUF encoding is gguf_writer.py's (written from the GGUF specification); the checkpoint is
read by hf_reference.py's safetensors reader. Independent of headscope's C++ code.

Usage: gguf_from_hf.py HF_DIR OUT.gguf [--type f32|q8_0] [--roundtrip-hf DIR]
  --type q8_0 quantises every weight matrix of the layers whose rows are whole 32-value blocks
  (norms, biases, the embedding, the unembedding and the MoE routers stay f32, as llama.cpp keeps
  ffn_gate_inp unquantised).
  --roundtrip-hf DIR also writes an HF checkpoint holding exactly the values the quantised file
  stores (each quantised matrix dequantised by numpy from its blocks), the ground truth for q8_0.
"""
import argparse
import json
import math
import os
import struct
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
import gguf_vocab_writer as vw  # noqa: E402
import gguf_writer as gw  # noqa: E402
import torch  # noqa: E402
from hf_reference import load_dir, write_checkpoint  # noqa: E402

ARCH = {"llama": "llama", "mixtral": "llama", "qwen2": "qwen2", "qwen3": "qwen3", "gemma": "gemma", "gemma2": "gemma2", "gemma3_text": "gemma3",
        "phi3": "phi3", "olmo2": "olmo2", "qwen2_moe": "qwen2moe", "qwen3_moe": "qwen3moe", "olmoe": "olmoe"}
# HF layer tensor (after "model.layers.N.") -> llama.cpp name (after "blk.N."); the norms that
# differ between families are resolved in layer_name().
LAYER = {"input_layernorm": "attn_norm", "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k",
         "self_attn.v_proj": "attn_v", "self_attn.o_proj": "attn_output", "self_attn.qkv_proj": "attn_qkv",
         "self_attn.q_norm": "attn_q_norm", "self_attn.k_norm": "attn_k_norm",
         "pre_feedforward_layernorm": "ffn_norm", "post_feedforward_layernorm": "post_ffw_norm",
         "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up", "mlp.down_proj": "ffn_down",
         "mlp.gate_up_proj": "ffn_up", "mlp.gate": "ffn_gate_inp",
         "mlp.shared_expert.gate_proj": "ffn_gate_shexp", "mlp.shared_expert.up_proj": "ffn_up_shexp",
         "mlp.shared_expert.down_proj": "ffn_down_shexp", "mlp.shared_expert_gate": "ffn_gate_inp_shexp"}
EXPERTS = {"gate_proj": "ffn_gate_exps", "up_proj": "ffn_up_exps", "down_proj": "ffn_down_exps",
           "w1": "ffn_gate_exps", "w3": "ffn_up_exps", "w2": "ffn_down_exps"}  # the latter: Mixtral's
LAYER["block_sparse_moe.gate"] = "ffn_gate_inp"


def permute_rows(a, n_head):
    """llama.cpp's q/k row order for the llama architecture: within each head, the rotary halves
    (x_i, x_{i+d/2}) become adjacent pairs (x_2i, x_2i+1)."""
    rows = a.shape[0]
    return a.reshape(n_head, 2, rows // n_head // 2, *a.shape[1:]).swapaxes(1, 2).reshape(a.shape)


def rope_freqs(c):
    """llama.cpp's converter's rope_freqs.weight for llama3 scaling: one divisor per frequency."""
    r = c["rope_scaling"]
    dh = c.get("head_dim") or c["hidden_size"] // c["num_attention_heads"]
    base, factor = c.get("rope_theta", 10000.0), r["factor"]
    low, high, old = r.get("low_freq_factor", 1.0), r.get("high_freq_factor", 4.0), r["original_max_position_embeddings"]
    out = []
    for i in range(0, dh, 2):
        wavelen = 2 * np.pi * base ** (i / dh)
        if wavelen < old / high:
            out.append(1.0)
        elif wavelen > old / low:
            out.append(factor)
        else:
            smooth = (old / wavelen - low) / (high - low)
            out.append(1.0 / ((1 - smooth) / factor + smooth))
    return np.array(out, dtype=np.float32)


def layer_name(mt, rest):
    if rest == "post_attention_layernorm":  # Gemma-2/3 and OLMo-2: the attention output norm
        return "post_attention_norm" if mt in ("gemma2", "gemma3_text", "olmo2") else "ffn_norm"
    return LAYER[rest]


def convert_tensors(t, c):
    mt = c["model_type"]
    out = {}
    experts = {}  # (layer, gguf name) -> {expert: array}
    for name, value in t.items():
        a = value.numpy().astype(np.float32)
        if mt.startswith("gemma") and name.endswith("norm.weight"):
            a = a + 1.0  # llama.cpp stores Gemma's (1 + w)
        if name == "model.embed_tokens.weight":
            out["token_embd.weight"] = a
        elif name == "model.norm.weight":
            out["output_norm.weight"] = a
        elif name == "lm_head.weight":
            out["output.weight"] = a
        else:
            assert name.startswith("model.layers."), name
            layer, rest = name[len("model.layers."):].split(".", 1)
            base, suffix = rest.rsplit(".", 1)
            if ".experts." in base:
                _, e, proj = base.rsplit(".", 2)
                experts.setdefault((layer, EXPERTS[proj]), {})[int(e)] = a
                continue
            g = layer_name(mt, base)
            if g == "ffn_gate_inp_shexp":
                a = a.reshape(-1)  # [1, d] -> [d]
            if ARCH[mt] == "llama" and g in ("attn_q", "attn_k"):
                assert suffix == "weight", name
                a = permute_rows(a, c["num_attention_heads"] if g == "attn_q" else c["num_key_value_heads"])
            out["blk.%s.%s.%s" % (layer, g, suffix)] = a
    for (layer, g), by_e in experts.items():
        out["blk.%s.%s.weight" % (layer, g)] = np.stack([by_e[e] for e in sorted(by_e)])
    rs = c.get("rope_scaling") or {}
    kind = rs.get("rope_type") or rs.get("type")
    if kind == "llama3":
        out["rope_freqs.weight"] = rope_freqs(c)
    elif kind == "longrope":
        out["rope_factors_long.weight"] = np.array(rs["long_factor"], dtype=np.float32)
        out["rope_factors_short.weight"] = np.array(rs["short_factor"], dtype=np.float32)
    return out


def gguf_quantised(gguf_name, a, quant):
    """The GGUF tensor is quantised iff the HF tensors it is made of are (stacked experts: all of them)."""
    if not quant or not gguf_name.startswith("blk.") or a.shape[-1] % gw.QK != 0 or "ffn_gate_inp" in gguf_name:
        return False
    return a.ndim >= 2


def metadata(c, tokens, types, merges):
    mt = c["model_type"]
    arch = ARCH[mt]
    dh = c.get("head_dim") or c["hidden_size"] // c["num_attention_heads"]
    kv = [("general.architecture", gw.STRING, arch), ("general.name", gw.STRING, "headscope-" + mt)]

    def add(key, vtype, value):
        kv.append(("%s.%s" % (arch, key), vtype, value))

    add("context_length", gw.U32, c["max_position_embeddings"])
    add("embedding_length", gw.U32, c["hidden_size"])
    add("block_count", gw.U32, c["num_hidden_layers"])
    add("feed_forward_length", gw.U32, c["intermediate_size"])
    add("attention.head_count", gw.U32, c["num_attention_heads"])
    add("attention.head_count_kv", gw.U32, c.get("num_key_value_heads") or c["num_attention_heads"])
    add("attention.key_length", gw.U32, dh)
    add("attention.value_length", gw.U32, dh)
    add("attention.layer_norm_rms_epsilon", gw.F32, c["rms_norm_eps"])
    add("rope.freq_base", gw.F32, c.get("rope_theta", 10000.0))
    add("rope.dimension_count", gw.U32, int(dh * c.get("partial_rotary_factor", 1.0)))
    if c.get("sliding_window") and (mt.startswith("gemma") or mt == "phi3" or c.get("use_sliding_window")):
        add("attention.sliding_window", gw.U32, c["sliding_window"])
    rs = c.get("rope_scaling") or {}
    kind = rs.get("rope_type") or rs.get("type")
    if kind == "linear":
        add("rope.scaling.type", gw.STRING, "linear")
        add("rope.scaling.factor", gw.F32, rs["factor"])
    elif kind == "longrope":  # phi3: no type key; the factors are tensors (convert_tensors)
        orig = c["original_max_position_embeddings"]
        scale = c["max_position_embeddings"] / orig
        add("rope.scaling.attn_factor", gw.F32, math.sqrt(1 + math.log(scale) / math.log(orig)) if scale > 1 else 1.0)
        add("rope.scaling.original_context_length", gw.U32, orig)
    elif kind not in (None, "llama3"):  # llama3: rope_freqs.weight (convert_tensors)
        sys.exit("gguf_from_hf: rope scaling %s is not converted" % rs)
    for key in ("attn_logit_softcapping", "final_logit_softcapping"):
        if c.get(key):
            add(key, gw.F32, c[key])
    if mt == "mixtral":  # llama.cpp's llama architecture always renormalises the top-k weights
        add("expert_count", gw.U32, c["num_local_experts"])
        add("expert_used_count", gw.U32, c["num_experts_per_tok"])
    if mt in ("qwen2_moe", "qwen3_moe", "olmoe"):
        add("expert_count", gw.U32, c["num_experts"])
        add("expert_used_count", gw.U32, c["num_experts_per_tok"])
        add("expert_feed_forward_length", gw.U32, c.get("moe_intermediate_size") or c["intermediate_size"])
        add("expert_weights_norm", gw.BOOL, bool(c.get("norm_topk_prob", False)))
        if mt == "qwen2_moe":
            add("expert_shared_feed_forward_length", gw.U32, c["shared_expert_intermediate_size"])
    kv += [("tokenizer.ggml.model", gw.STRING, "gpt2"), ("tokenizer.ggml.pre", gw.STRING, "gpt-2"),
           ("tokenizer.ggml.tokens", gw.ARRAY, (gw.STRING, tokens)),
           ("tokenizer.ggml.token_type", gw.ARRAY, (gw.I32, types)),
           ("tokenizer.ggml.merges", gw.ARRAY, (gw.STRING, merges))]
    for key, hf in (("bos", "bos_token_id"), ("eos", "eos_token_id")):
        if c.get(hf) is not None:
            kv.append(("tokenizer.ggml.%s_token_id" % key, gw.U32, c[hf]))
    return kv


def quantised(hf_name, shape, qtype):
    """Whether the q8_0 file stores this HF tensor quantised (its GGUF form has the same rows)."""
    router = hf_name.endswith(("mlp.gate.weight", "block_sparse_moe.gate.weight", "shared_expert_gate.weight"))
    return (qtype == "q8_0" and hf_name.startswith("model.layers.") and len(shape) == 2 and shape[-1] % gw.QK == 0
            and not router)


def roundtrip(t, qtype):
    """Each tensor the file quantises replaced by the float32 values its blocks hold."""
    out = {}
    for name, v in t.items():
        if quantised(name, list(v.shape), qtype):
            raw = gw.encode_tensor(gw.GGML_Q8_0, v.numpy().astype(np.float32).reshape(-1))
            v = torch.from_numpy(gw.dequantize(gw.GGML_Q8_0, raw).reshape(tuple(v.shape)).copy())
        out[name] = v.to(torch.float64)
    return out


def write(hf_dir, out_path, qtype, roundtrip_dir=None):
    c = json.load(open(os.path.join(hf_dir, "config.json")))
    if c["model_type"] not in ARCH:
        sys.exit("gguf_from_hf: model_type %s is not converted" % c["model_type"])
    if c.get("use_sliding_window") and c.get("max_window_layers", 0) > 0:
        sys.exit("gguf_from_hf: llama.cpp's qwen architectures slide every layer (max_window_layers is %d)"
                 % c["max_window_layers"])
    if c.get("mlp_only_layers"):
        sys.exit("gguf_from_hf: llama.cpp's MoE architectures have no dense layers (mlp_only_layers)")
    hf = roundtrip(load_dir(hf_dir), qtype)  # quantising the dequantised values again gives the same blocks
    if roundtrip_dir:
        write_checkpoint(roundtrip_dir, {n: v for n, v in hf.items()}, c, "F32", 1)
    tensors = convert_tensors(hf, c)
    quant = {n for n, v in hf.items() if quantised(n, list(v.shape), qtype)}
    tokens, types, merges, _ = vw.convert(os.path.join(hf_dir, "tokenizer.json"))
    n_vocab = tensors["token_embd.weight"].shape[0]
    for i in range(len(tokens), n_vocab):  # ids the tokenizer never produces
        tokens.append("[PAD%d]" % i)
        types.append(vw.UNUSED)
    kv = metadata(c, tokens, types, merges)

    entries = []
    for name, a in tensors.items():
        gtype = gw.GGML_Q8_0 if gguf_quantised(name, a, quant) else gw.GGML_F32
        entries.append((name, gtype, list(a.shape), gw.encode_tensor(gtype, a.reshape(-1))))
    enc = gw.Encoder(3)
    offsets, cursor = [], 0
    for _, _, _, raw in entries:
        cursor = gw.align(cursor, 32)
        offsets.append(cursor)
        cursor += len(raw)
    header = b"GGUF" + struct.pack("<I", 3) + enc.count(len(entries)) + enc.count(len(kv))
    for key, vtype, value in kv:
        header += enc.string(key) + struct.pack("<I", vtype) + enc.value(vtype, value)
    for (name, gtype, shape, _), off in zip(entries, offsets):
        header += enc.string(name) + struct.pack("<I", len(shape))
        header += b"".join(enc.count(d) for d in reversed(shape))  # ne[0] is the fastest dimension
        header += struct.pack("<I", gtype) + struct.pack("<Q", off)
    data = bytearray(cursor)
    for (_, _, _, raw), off in zip(entries, offsets):
        data[off:off + len(raw)] = raw
    start = gw.align(len(header), 32)
    with open(out_path, "wb") as f:
        f.write(header + b"\0" * (start - len(header)) + bytes(data))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("hf_dir")
    p.add_argument("out")
    p.add_argument("--type", choices=("f32", "q8_0"), default="f32")
    p.add_argument("--roundtrip-hf")
    a = p.parse_args()
    write(a.hf_dir, a.out, a.type, a.roundtrip_hf)


if __name__ == "__main__":
    main()
