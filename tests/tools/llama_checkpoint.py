#!/usr/bin/python3
"""Writes a random-weight Llama checkpoint of a given shape, streaming one tensor at a time.

Used by the memory tests (a ~200 MB bf16 Hugging Face directory, a q4_0 GGUF) and by bench/load
(the Llama-3-8B shape, or a slice of its layers). Independent of headscope's C++ code: the
safetensors and GGUF encodings follow their specifications; q4_0 blocks are packed as ggml does.

  --format hf    DIR/config.json + DIR/model.safetensors (dtype f32|f16|bf16) + DIR/tokenizer.json
                 (a byte-level BPE over the 256 bytes, so every prompt's ids are < 256)
  --format gguf  DIR/model.gguf (layer matrices in --dtype, f32|f16|bf16|q8_0|q4_0; embeddings
                 and norms f16/f32), with an embedded llama vocabulary of --vocab tokens

Shapes: --shape 8b (Llama-3-8B: 32 layers, d_model 4096, 32 heads, 8 kv heads, d_mlp 14336,
vocab 128256) or test200 (~200 MB in bf16), and --layers N to keep only the first N layers.
"""
import argparse
import json
import os
import struct

import numpy as np

SHAPES = {
    "8b": dict(layers=32, d_model=4096, heads=32, kv_heads=8, d_mlp=14336, vocab=128256, ctx=8192,
               theta=500000.0),
    "test200": dict(layers=8, d_model=1024, heads=16, kv_heads=4, d_mlp=2816, vocab=8192, ctx=2048,
                    theta=10000.0),
    "q4test": dict(layers=6, d_model=1024, heads=16, kv_heads=4, d_mlp=4096, vocab=1024, ctx=2048,
                   theta=10000.0),
}
QK = 32
ST_DTYPES = {"f32": "F32", "f16": "F16", "bf16": "BF16"}
GGML = {"f32": 0, "f16": 1, "q4_0": 2, "q8_0": 8, "bf16": 30}
BYTES_PER_ELEMENT = {"f32": 4.0, "f16": 2.0, "bf16": 2.0, "q8_0": 34 / 32, "q4_0": 18 / 32}


def tensor_list(s):
    """(HF name, GGUF name, row-major shape, kind) in file order; kind: matrix | norm | embed."""
    d, h, k, m, v = s["d_model"], s["heads"], s["kv_heads"], s["d_mlp"], s["vocab"]
    dh = d // h
    out = [("model.embed_tokens.weight", "token_embd.weight", (v, d), "embed")]
    for l in range(s["layers"]):
        p, g = "model.layers.%d." % l, "blk.%d." % l
        out += [(p + "input_layernorm.weight", g + "attn_norm.weight", (d,), "norm"),
                (p + "self_attn.q_proj.weight", g + "attn_q.weight", (h * dh, d), "matrix"),
                (p + "self_attn.k_proj.weight", g + "attn_k.weight", (k * dh, d), "matrix"),
                (p + "self_attn.v_proj.weight", g + "attn_v.weight", (k * dh, d), "matrix"),
                (p + "self_attn.o_proj.weight", g + "attn_output.weight", (d, h * dh), "matrix"),
                (p + "post_attention_layernorm.weight", g + "ffn_norm.weight", (d,), "norm"),
                (p + "mlp.gate_proj.weight", g + "ffn_gate.weight", (m, d), "matrix"),
                (p + "mlp.up_proj.weight", g + "ffn_up.weight", (m, d), "matrix"),
                (p + "mlp.down_proj.weight", g + "ffn_down.weight", (d, m), "matrix")]
    out += [("model.norm.weight", "output_norm.weight", (d,), "norm"),
            ("lm_head.weight", "output.weight", (v, d), "embed")]
    return out


def values(rng, shape, kind, rows=None):
    """float32 values (rows [r0, r1) of the tensor when `rows` is given)."""
    n_rows = shape[0] if rows is None else rows[1] - rows[0]
    sub = (n_rows,) + tuple(shape[1:])
    if kind == "norm":
        return (1.0 + 0.1 * rng.standard_normal(sub)).astype(np.float32)
    return (rng.standard_normal(sub, dtype=np.float32) * np.float32(0.02))


def encode(dtype, x):
    x = np.ascontiguousarray(x, dtype=np.float32)
    if dtype == "f32":
        return x.astype("<f4").tobytes()
    if dtype == "f16":
        return x.astype("<f2").tobytes()
    if dtype == "bf16":
        return (x.view(np.uint32) >> 16).astype("<u2").tobytes()
    blocks = x.reshape(-1, QK)
    if dtype == "q8_0":
        d = (np.abs(blocks).max(axis=1) / 127.0).astype(np.float32)
        inv = np.divide(1.0, d, out=np.zeros_like(d), where=d != 0)
        q = np.clip(np.round(blocks * inv[:, None]), -127, 127).astype(np.int8)
        out = np.empty((blocks.shape[0], 34), dtype=np.uint8)
        out[:, :2] = d.astype("<f2").view(np.uint8).reshape(-1, 2)
        out[:, 2:] = q.view(np.uint8)
        return out.tobytes()
    if dtype == "q4_0":  # ggml's quantize_row_q4_0: d = signed max / -8, q = trunc(x/d + 8.5)
        idx = np.argmax(np.abs(blocks), axis=1)
        d = (blocks[np.arange(blocks.shape[0]), idx] / -8.0).astype(np.float32)
        inv = np.divide(1.0, d, out=np.zeros_like(d), where=d != 0)
        q = np.clip(np.trunc(blocks * inv[:, None] + 8.5), 0, 15).astype(np.uint8)
        out = np.empty((blocks.shape[0], 18), dtype=np.uint8)
        out[:, :2] = d.astype("<f2").view(np.uint8).reshape(-1, 2)
        out[:, 2:] = q[:, :QK // 2] | (q[:, QK // 2:] << 4)
        return out.tobytes()
    raise ValueError(dtype)


def stream_tensor(f, rng, shape, kind, dtype, chunk_elems=1 << 24):
    """Writes the tensor a block of rows at a time (bounded memory for 8B-sized tensors)."""
    row = int(np.prod(shape[1:])) if len(shape) > 1 else int(shape[0])
    if len(shape) == 1:
        f.write(encode(dtype, values(rng, shape, kind)))
        return
    step = max(1, chunk_elems // row)
    for r0 in range(0, shape[0], step):
        r1 = min(shape[0], r0 + step)
        f.write(encode(dtype, values(rng, shape, kind, (r0, r1))))


def nbytes(shape, dtype):
    return int(round(int(np.prod(shape)) * BYTES_PER_ELEMENT[dtype]))


def byte_level_tokenizer():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    vocab = {chr(c): b for b, c in zip(bs, cs)}
    return {"version": "1.0", "truncation": None, "padding": None, "added_tokens": [],
            "normalizer": None,
            "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                              "use_regex": True},
            "post_processor": None,
            "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True,
                        "use_regex": True},
            "model": {"type": "BPE", "dropout": None, "unk_token": None,
                      "continuing_subword_prefix": None, "end_of_word_suffix": None,
                      "fuse_unk": False, "byte_fallback": False, "vocab": vocab, "merges": []}}


def write_hf(out, s, dtype, rng, sparse=False):
    os.makedirs(out, exist_ok=True)
    config = {"architectures": ["LlamaForCausalLM"], "model_type": "llama",
              "hidden_size": s["d_model"], "intermediate_size": s["d_mlp"],
              "num_hidden_layers": s["layers"], "num_attention_heads": s["heads"],
              "num_key_value_heads": s["kv_heads"], "vocab_size": s["vocab"],
              "max_position_embeddings": s["ctx"], "rms_norm_eps": 1e-5, "rope_theta": s["theta"],
              "hidden_act": "silu", "tie_word_embeddings": False, "torch_dtype": "bfloat16",
              "bos_token_id": 1, "eos_token_id": 2}
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=1)
    with open(os.path.join(out, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(byte_level_tokenizer(), f, ensure_ascii=False)
    header, cursor, ts = {}, 0, tensor_list(s)
    for name, _, shape, _ in ts:
        n = nbytes(shape, dtype)
        header[name] = {"dtype": ST_DTYPES[dtype], "shape": list(shape), "data_offsets": [cursor, cursor + n]}
        cursor += n
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)  # 8-byte aligned data, as the reference writer does
    path = os.path.join(out, "model.safetensors")
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text)
        if sparse:  # the full size as a hole: for header-only commands, costs no disk
            f.truncate(8 + len(text) + cursor)
        else:
            for _, _, shape, kind in ts:
                stream_tensor(f, rng, shape, kind, dtype)
    os.replace(path + ".tmp", path)
    return path


def gguf_string(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def gguf_kv(key, vtype, value):
    out = gguf_string(key) + struct.pack("<I", vtype)
    if vtype == 4:  # uint32
        return out + struct.pack("<I", value)
    if vtype == 6:  # float32
        return out + struct.pack("<f", value)
    if vtype == 8:
        return out + gguf_string(value)
    if vtype == 9:  # array: (element type, items)
        etype, items = value
        out += struct.pack("<I", etype) + struct.pack("<Q", len(items))
        if etype == 8:
            return out + b"".join(gguf_string(i) for i in items)
        fmt = {6: "<f", 5: "<i"}[etype]
        return out + b"".join(struct.pack(fmt, i) for i in items)
    raise ValueError(vtype)


def write_gguf(out, s, dtype, rng, alignment=32):
    os.makedirs(out, exist_ok=True)
    v = s["vocab"]
    tokens = ["<unk>", "<s>", "</s>"] + ["<0x%02X>" % b for b in range(256)]
    tokens += ["tok%d" % i for i in range(v - len(tokens))]
    types = [2, 3, 3] + [6] * 256 + [1] * (v - 259)
    kv = [("general.architecture", 8, "llama"), ("general.name", 8, "headscope-bench"),
          ("llama.context_length", 4, s["ctx"]), ("llama.embedding_length", 4, s["d_model"]),
          ("llama.block_count", 4, s["layers"]), ("llama.feed_forward_length", 4, s["d_mlp"]),
          ("llama.attention.head_count", 4, s["heads"]),
          ("llama.attention.head_count_kv", 4, s["kv_heads"]),
          ("llama.attention.layer_norm_rms_epsilon", 6, 1e-5), ("llama.rope.freq_base", 6, s["theta"]),
          ("tokenizer.ggml.model", 8, "llama"), ("tokenizer.ggml.tokens", 9, (8, tokens)),
          ("tokenizer.ggml.scores", 9, (6, [0.0] * v)), ("tokenizer.ggml.token_type", 9, (5, types)),
          ("tokenizer.ggml.bos_token_id", 4, 1), ("tokenizer.ggml.eos_token_id", 4, 2)]
    ts = [(g, shape, kind, dtype if kind == "matrix" else ("f16" if kind == "embed" else "f32"))
          for _, g, shape, kind in tensor_list(s)]
    header = b"GGUF" + struct.pack("<I", 3) + struct.pack("<Q", len(ts)) + struct.pack("<Q", len(kv))
    header += b"".join(gguf_kv(*e) for e in kv)
    cursor, offsets = 0, []
    for name, shape, _, t in ts:
        cursor = (cursor + alignment - 1) // alignment * alignment
        offsets.append(cursor)
        header += gguf_string(name) + struct.pack("<I", len(shape))
        header += b"".join(struct.pack("<Q", d) for d in reversed(shape))
        header += struct.pack("<I", GGML[t]) + struct.pack("<Q", cursor)
        cursor += nbytes(shape, t)
    pad = (alignment - len(header) % alignment) % alignment
    path = os.path.join(out, "model.gguf")
    with open(path + ".tmp", "wb") as f:
        f.write(header + b"\0" * pad)
        start = f.tell()
        for (name, shape, kind, t), off in zip(ts, offsets):
            f.write(b"\0" * (start + off - f.tell()))
            stream_tensor(f, rng, shape, kind, t)
    os.replace(path + ".tmp", path)
    return path


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True)
    p.add_argument("--format", choices=("hf", "gguf"), default="hf")
    p.add_argument("--dtype", choices=tuple(GGML), default="bf16")
    p.add_argument("--shape", choices=tuple(SHAPES), default="test200")
    p.add_argument("--layers", type=int, default=0, help="keep only the first N layers (0 = all)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--sparse", action="store_true", help="hf: header only, the data a hole of the right size")
    a = p.parse_args()
    s = dict(SHAPES[a.shape])
    if a.layers:
        s["layers"] = a.layers
    rng = np.random.default_rng(a.seed)
    if a.format == "hf":
        if a.dtype not in ST_DTYPES:
            p.error("safetensors holds f32, f16 or bf16")
        print(write_hf(a.out, s, a.dtype, rng, a.sparse))
    else:
        print(write_gguf(a.out, s, a.dtype, rng))


if __name__ == "__main__":
    main()
