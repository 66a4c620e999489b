#!/usr/bin/python3
"""Writes a GGUF file whose embedded vocabulary (tokenizer.ggml.*) is converted from a Hugging
Face tokenizer.json, the way llama.cpp's converter lays out a byte-level BPE ("gpt2") vocabulary:

  tokens      one per id 0..n-1 (vocabulary pieces in their byte-level spelling, added tokens by
              their content; ids no token has become "[PAD<id>]"),
  token_type  1 normal, 3 control (special added tokens), 4 user-defined (other added tokens),
              5 unused (the padding ids),
  merges      "left right" strings in rank order,
  pre         the pre-tokenizer name given on the command line (llama-bpe, qwen2, gpt-2, ...),
  bos/eos     --bos-id/--eos-id when given (llama.cpp takes them from config.json), else the ids of
              tokenizer_config.json's bos_token/eos_token beside tokenizer.json, if any.

The GGUF encoding is gguf_writer.py's (written from the GGUF specification); one small f32
tensor makes it a complete file. Independent of headscope's C++ code.

Usage: gguf_vocab_writer.py --tokenizer tokenizer.json --pre NAME --out model.gguf [--bos-id N --eos-id N]
"""
import argparse
import json
import os
import struct

import gguf_writer as gw

NORMAL, CONTROL, USER_DEFINED, UNUSED = 1, 3, 4, 5


def special_name(config, key):
    value = config.get(key)
    if isinstance(value, dict):
        value = value.get("content")
    return value if isinstance(value, str) else None


def convert(tokenizer_path):
    with open(tokenizer_path, encoding="utf-8") as f:
        tok = json.load(f)
    model = tok["model"]
    assert model.get("type", "BPE") == "BPE"
    by_id = {i: (piece, NORMAL) for piece, i in model["vocab"].items()}
    for added in tok.get("added_tokens", []):
        by_id[added["id"]] = (added["content"], CONTROL if added["special"] else USER_DEFINED)
    n = max(by_id) + 1
    tokens, types = [], []
    for i in range(n):
        piece, kind = by_id.get(i, ("[PAD%d]" % i, UNUSED))
        tokens.append(piece)
        types.append(kind)
    merges = [m if isinstance(m, str) else " ".join(m) for m in model["merges"]]

    config_path = os.path.join(os.path.dirname(tokenizer_path), "tokenizer_config.json")
    config = {}
    if os.path.exists(config_path):
        with open(config_path, encoding="utf-8") as f:
            config = json.load(f)
    index = {piece: i for i, piece in enumerate(tokens)}
    special = {}
    for key in ("bos_token", "eos_token"):
        name = special_name(config, key)
        if name in index:
            special[key] = index[name]
    return tokens, types, merges, special


def write(tokenizer_path, pre, out_path, bos_id=None, eos_id=None):
    tokens, types, merges, special = convert(tokenizer_path)
    if bos_id is not None:
        special["bos_token"] = bos_id
    if eos_id is not None:
        special["eos_token"] = eos_id
    kv = [("general.architecture", gw.STRING, "llama"),
          ("tokenizer.ggml.model", gw.STRING, "gpt2"),
          ("tokenizer.ggml.tokens", gw.ARRAY, (gw.STRING, tokens)),
          ("tokenizer.ggml.token_type", gw.ARRAY, (gw.I32, types)),
          ("tokenizer.ggml.merges", gw.ARRAY, (gw.STRING, merges))]
    if pre:
        kv.append(("tokenizer.ggml.pre", gw.STRING, pre))
    if "bos_token" in special:
        kv.append(("tokenizer.ggml.bos_token_id", gw.U32, special["bos_token"]))
    if "eos_token" in special:
        kv.append(("tokenizer.ggml.eos_token_id", gw.U32, special["eos_token"]))

    enc = gw.Encoder(3)
    header = b"GGUF" + struct.pack("<I", 3) + enc.count(1) + enc.count(len(kv))
    for key, vtype, value in kv:
        header += enc.string(key) + struct.pack("<I", vtype) + enc.value(vtype, value)
    header += enc.string("token_embd.weight") + struct.pack("<I", 1) + enc.count(4)
    header += struct.pack("<I", gw.GGML_F32) + struct.pack("<Q", 0)
    data_start = gw.align(len(header), 32)
    with open(out_path, "wb") as f:
        f.write(header + b"\0" * (data_start - len(header)) + struct.pack("<4f", 0, 1, 2, 3))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokenizer", required=True)
    parser.add_argument("--pre", default="", help="tokenizer.ggml.pre (omitted when empty)")
    parser.add_argument("--out", required=True)
    parser.add_argument("--bos-id", type=int)
    parser.add_argument("--eos-id", type=int)
    args = parser.parse_args()
    write(args.tokenizer, args.pre, args.out, args.bos_id, args.eos_id)


if __name__ == "__main__":
    main()
