#!/usr/bin/python3
"""Independent safetensors writer and reader for headscope's tests (numpy + json + struct only;
the `safetensors` package is not needed).

  st_writer.py fixtures OUTDIR [--seed N]
      Writes OUTDIR/mixed.safetensors (F32/F16/BF16 tensors of seeded random values, every
      f16 and bf16 bit pattern, a scalar, an empty tensor, and I64/BOOL tensors headscope does
      not read), OUTDIR/sharded/ (two shards + model.safetensors.index.json), and the expected
      float32 values computed by numpy as raw little-endian files OUTDIR/expected/<name>.f32,
      described by OUTDIR/expected.json.

  st_writer.py read FILE
      Parses FILE with this script's own reader and prints JSON: header length, whether the
      header is padded with spaces to 8 bytes, whether the data offsets tile the buffer exactly,
      the metadata, and every tensor's dtype, shape, offsets and float32 bit patterns.
"""
import json
import os
import struct
import sys

import numpy as np

ITEMSIZE = {"F32": 4, "F16": 2, "BF16": 2, "I64": 8, "BOOL": 1, "U8": 1, "F64": 8}


def bf16_truncate(values_f32):
    """bf16 storage of float32 values: their top 16 bits."""
    bits = np.ascontiguousarray(values_f32, dtype="<f4").view("<u4")
    return (bits >> 16).astype("<u2")


def bf16_bits_to_f32(bits_u16):
    return (bits_u16.astype("<u4") << 16).view("<f4")


def write_file(path, tensors, metadata=None, order=None):
    """tensors: {name: (dtype, shape, raw_bytes)}; data laid out in `order` (default: as given)."""
    order = order or list(tensors)
    header = {}
    if metadata:
        header["__metadata__"] = metadata
    offset = 0
    chunks = []
    for name in order:
        dtype, shape, raw = tensors[name]
        assert len(raw) == int(np.prod(shape, dtype=np.int64)) * ITEMSIZE[dtype], name
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        chunks.append(raw)
    # JSON key order deliberately differs from data order: sort the keys.
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for c in chunks:
            f.write(c)


def make_tensors(rng, spec):
    """spec: [(name, dtype, shape)] of float dtypes -> (tensors for write_file, expected f32)."""
    tensors, expected = {}, {}
    for name, dtype, shape in spec:
        values = (rng.standard_normal(shape) * rng.uniform(0.01, 10.0)).astype(np.float32)
        if dtype == "F32":
            raw, exp = values.astype("<f4").tobytes(), values.astype(np.float32)
        elif dtype == "F16":
            h = values.astype("<f2")
            raw, exp = h.tobytes(), h.astype(np.float32)
        elif dtype == "BF16":
            b = bf16_truncate(values)
            raw, exp = b.tobytes(), bf16_bits_to_f32(b).reshape(shape)
        else:
            raise ValueError(dtype)
        tensors[name] = (dtype, list(shape), raw)
        expected[name] = (dtype, list(shape), np.asarray(exp, dtype=np.float32))
    return tensors, expected


def save_expected(outdir, expected, unsupported, metadata):
    os.makedirs(os.path.join(outdir, "expected"), exist_ok=True)
    desc = {"tensors": {}, "unsupported": unsupported, "metadata": metadata}
    for name, (dtype, shape, values) in expected.items():
        fname = name.replace("/", "_") + ".f32"
        values.astype("<f4").tofile(os.path.join(outdir, "expected", fname))
        desc["tensors"][name] = {"dtype": dtype, "shape": shape, "file": "expected/" + fname}
    with open(os.path.join(outdir, "expected.json"), "w") as f:
        json.dump(desc, f, indent=1, sort_keys=True)


def fixtures(outdir, seed):
    rng = np.random.default_rng(seed)
    os.makedirs(outdir, exist_ok=True)

    # --- one file with every supported dtype, special patterns and unsupported dtypes
    tensors, expected = make_tensors(rng, [
        ("w_f32", "F32", (3, 5)),
        ("w_f16", "F16", (4, 7)),
        ("w_bf16", "BF16", (2, 3, 4)),
        ("vec_f16", "F16", (33,)),
        ("scalar", "F32", ()),
    ])
    every = np.arange(65536, dtype=np.uint32).astype("<u2")
    tensors["f16_all"] = ("F16", [65536], every.tobytes())
    expected["f16_all"] = ("F16", [65536], every.view("<f2").astype(np.float32))
    tensors["bf16_all"] = ("BF16", [256, 256], every.tobytes())
    expected["bf16_all"] = ("BF16", [256, 256], bf16_bits_to_f32(every).reshape(256, 256))
    tensors["empty"] = ("F32", [0, 3], b"")
    expected["empty"] = ("F32", [0, 3], np.zeros((0, 3), np.float32))
    tensors["ids"] = ("I64", [4], np.array([1, -2, 3, 2**40], "<i8").tobytes())
    tensors["mask"] = ("BOOL", [2, 2], bytes([1, 0, 1, 1]))
    metadata = {"format": "pt", "producer": "st_writer.py"}
    order = list(tensors)
    rng.shuffle(order)
    write_file(os.path.join(outdir, "mixed.safetensors"), tensors, metadata, order)

    # --- a sharded checkpoint directory
    shard_spec = {
        "model-00001-of-00002.safetensors": [
            ("model.embed_tokens.weight", "F32", (10, 4)),
            ("model.layers.0.self_attn.q_proj.weight", "BF16", (4, 4)),
            ("model.layers.0.mlp.up_proj.weight", "F16", (6, 4)),
        ],
        "model-00002-of-00002.safetensors": [
            ("model.layers.1.self_attn.q_proj.weight", "BF16", (4, 4)),
            ("model.norm.weight", "F32", (4,)),
            ("lm_head.weight", "F16", (10, 4)),
        ],
    }
    sharded = os.path.join(outdir, "sharded")
    os.makedirs(sharded, exist_ok=True)
    weight_map, total = {}, 0
    for shard, spec in shard_spec.items():
        t, e = make_tensors(rng, spec)
        write_file(os.path.join(sharded, shard), t, {"format": "pt"})
        for name in t:
            weight_map[name] = shard
            total += len(t[name][2])
        expected.update(e)
    with open(os.path.join(sharded, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)

    save_expected(outdir, expected, {"ids": "I64", "mask": "BOOL"}, metadata)


def read(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    raw_header = blob[8:8 + n]
    text = raw_header.decode("utf-8")
    header = json.loads(text)
    data = blob[8 + n:]
    out = {
        "header_len": n,
        "aligned_to_8": (8 + n) % 8 == 0,
        "trailing_spaces": len(text) - len(text.rstrip(" ")),
        "json_ends_with_brace": text.rstrip(" ").endswith("}"),
        "metadata": header.pop("__metadata__", {}),
        "tensors": {},
    }
    spans = []
    for name, info in header.items():
        begin, end = info["data_offsets"]
        dtype, shape = info["dtype"], info["shape"]
        assert end - begin == int(np.prod(shape, dtype=np.int64)) * ITEMSIZE[dtype], name
        chunk = data[begin:end]
        if dtype == "F32":
            values = np.frombuffer(chunk, "<f4")
        elif dtype == "F16":
            values = np.frombuffer(chunk, "<f2").astype(np.float32)
        elif dtype == "BF16":
            values = bf16_bits_to_f32(np.frombuffer(chunk, "<u2"))
        else:
            values = np.zeros(0, np.float32)
        out["tensors"][name] = {
            "dtype": dtype, "shape": shape, "data_offsets": [begin, end],
            "bits": values.astype("<f4").view("<u4").tolist(),
        }
        spans.append((begin, end))
    spans.sort()
    pos, tiles = 0, True
    for begin, end in spans:
        tiles = tiles and begin == pos
        pos = end
    out["offsets_tile_buffer"] = tiles and pos == len(data)
    json.dump(out, sys.stdout)


def main(argv):
    if len(argv) >= 3 and argv[1] == "fixtures":
        seed = int(argv[argv.index("--seed") + 1]) if "--seed" in argv else 1234
        fixtures(argv[2], seed)
    elif len(argv) == 3 and argv[1] == "read":
        read(argv[2])
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
