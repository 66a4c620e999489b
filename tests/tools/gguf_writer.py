#!/usr/bin/python3
"""Writes a small llama-like GGUF file (version 1, 2 or 3) for headscope's reader tests.

Independent of headscope's C++ code: the GGUF encoding below follows the GGUF specification
(ggml/docs/gguf.md) and the ggml block layouts, and the expected float32 values of every tensor
are computed by numpy from the bytes written to the file.

Outputs, in --out:
  model.gguf          the GGUF file
  expected/<name>.f32 each tensor dequantised by numpy, raw little-endian float32, row-major
  manifest.tsv        one line per tensor: name, ggml type name, row-major shape (comma-separated)

Usage: gguf_writer.py --out DIR --version {1,2,3} [--alignment N] [--seed S]
"""
import argparse
import os
import struct

import numpy as np

# GGUF metadata value types.
U8, I8, U16, I16, U32, I32, F32, BOOL, STRING, ARRAY, U64, I64, F64 = range(13)
SCALAR_FORMATS = {U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i", F32: "<f",
                  BOOL: "<?", U64: "<Q", I64: "<q", F64: "<d"}
# ggml tensor types.
GGML_F32, GGML_F16, GGML_Q4_0, GGML_Q8_0, GGML_Q4_K, GGML_Q6_K, GGML_BF16 = 0, 1, 2, 8, 12, 14, 30
TYPE_NAMES = {GGML_F32: "f32", GGML_F16: "f16", GGML_Q4_0: "q4_0", GGML_Q8_0: "q8_0", GGML_Q4_K: "q4_K",
              GGML_Q6_K: "q6_K", GGML_BF16: "bf16"}
QK = 32
QK_K = 256  # elements of a k-quant super-block
Q4_K_BYTES = 2 + 2 + 12 + QK_K // 2   # d, dmin, packed 6-bit scales/mins, nibbles
Q6_K_BYTES = QK_K // 2 + QK_K // 4 + QK_K // 16 + 2  # ql, qh, int8 scales, d

# The llama-like model the metadata describes.
D_MODEL, N_LAYERS, N_HEADS, N_KV_HEADS, D_MLP, N_CTX = 64, 2, 4, 2, 96, 128
D_HEAD = D_MODEL // N_HEADS


class Encoder:
    """GGUF primitives; v1 writes counts, lengths and dims as uint32, v2/v3 as uint64."""

    def __init__(self, version):
        self.count_format = "<I" if version == 1 else "<Q"

    def count(self, n):
        return struct.pack(self.count_format, n)

    def string(self, s):
        b = s.encode("utf-8")
        return self.count(len(b)) + b

    def value(self, vtype, v):
        if vtype == STRING:
            return self.string(v)
        if vtype == ARRAY:
            etype, items = v
            out = struct.pack("<I", etype) + self.count(len(items))
            return out + b"".join(self.value(etype, item) for item in items)
        return struct.pack(SCALAR_FORMATS[vtype], v)


# ---- quantisation (any reasonable quantiser will do: expectations come from the bytes) ----

def to_f16_bits(x):
    return np.asarray(x, dtype=np.float32).astype(np.float16).view(np.uint16)


def quantize_q8_0(x):
    blocks = x.reshape(-1, QK).astype(np.float32)
    amax = np.abs(blocks).max(axis=1)
    d = (amax / 127.0).astype(np.float32)
    inv = np.divide(1.0, d, out=np.zeros_like(d), where=d != 0)
    q = np.clip(np.round(blocks * inv[:, None]), -127, 127).astype(np.int8)
    out = bytearray()
    for b in range(blocks.shape[0]):
        out += to_f16_bits(d[b]).tobytes() + q[b].tobytes()
    return bytes(out)


def quantize_q4_0(x):
    blocks = x.reshape(-1, QK).astype(np.float32)
    out = bytearray()
    for blk in blocks:
        signed_max = blk[np.argmax(np.abs(blk))]
        d = np.float32(signed_max / -8.0)
        inv = np.float32(1.0 / d) if d != 0 else np.float32(0.0)
        q = np.clip(np.trunc(blk * inv + 8.5), 0, 15).astype(np.uint8)
        packed = (q[:QK // 2] | (q[QK // 2:] << 4)).astype(np.uint8)
        out += to_f16_bits(d).tobytes() + packed.tobytes()
    return bytes(out)


# ---- independent dequantisation from the stored bytes ----

def f16_at(blocks, start):
    """The little-endian fp16 at byte `start` of every block, as float32 [n_blocks, 1]."""
    return blocks[:, start:start + 2].copy().view("<f2").astype(np.float32)


def q4_K_scales_mins(packed):
    """The 8 six-bit (scale, min) pairs of each q4_K super-block from its 12 packed bytes.

    Bytes 0..3 hold scales 0..3 in their low 6 bits and the top 2 bits of scales 4..7;
    bytes 4..7 the same for the mins; bytes 8..11 the low 4 bits of scale 4+i (low nibble)
    and min 4+i (high nibble)."""
    p = packed.astype(np.int32)
    low6_sc, low6_m, tail = p[:, 0:4], p[:, 4:8], p[:, 8:12]
    scales = np.concatenate([low6_sc & 63, (tail & 0x0F) | ((low6_sc >> 6) << 4)], axis=1)
    mins = np.concatenate([low6_m & 63, (tail >> 4) | ((low6_m >> 6) << 4)], axis=1)
    return scales, mins


def dequantize_q4_K(buf):
    blocks = buf.reshape(-1, Q4_K_BYTES)
    d, dmin = f16_at(blocks, 0), f16_at(blocks, 2)
    scales, mins = q4_K_scales_mins(blocks[:, 4:16])
    qs = blocks[:, 16:].astype(np.int32)
    # Element e: 64-element group g = e // 64, position r = e % 64 inside it; sub-block 2g + (r >= 32);
    # its nibble is in byte 32g + r % 32, the low one for r < 32.
    e = np.arange(QK_K)
    g, r = e // 64, e % 64
    sub = 2 * g + (r >= 32)
    nib = np.where(r < 32, qs[:, 32 * g + r % 32] & 0x0F, qs[:, 32 * g + r % 32] >> 4)
    sc = scales[:, sub].astype(np.float32)
    mn = mins[:, sub].astype(np.float32)
    return ((d * sc) * nib.astype(np.float32) - dmin * mn).reshape(-1)


def dequantize_q6_K(buf):
    blocks = buf.reshape(-1, Q6_K_BYTES)
    ql = blocks[:, :QK_K // 2].astype(np.int32)
    qh = blocks[:, QK_K // 2:QK_K // 2 + QK_K // 4].astype(np.int32)
    scales = blocks[:, QK_K // 2 + QK_K // 4:-2].view(np.int8).astype(np.int32)
    d = f16_at(blocks, Q6_K_BYTES - 2)
    # Element e: half h = e // 128; inside it quarter k = (e % 128) // 32 and lane l = e % 32.
    # Low 4 bits: ql[64h + l + 32 (k odd)], low nibble for k < 2; high 2 bits: bits 2k, 2k+1 of
    # qh[32h + l]; scale: scales[8h + 2k + l // 16]. Value d * scale * (q - 32).
    e = np.arange(QK_K)
    h, k, l = e // 128, (e % 128) // 32, e % 32
    low_byte = ql[:, 64 * h + l + 32 * (k % 2)]
    low = np.where(k < 2, low_byte & 0x0F, low_byte >> 4)
    high = (qh[:, 32 * h + l] >> (2 * k)) & 3
    q = (low | (high << 4)) - 32
    sc = scales[:, 8 * h + 2 * k + l // 16]
    return (d * (sc * q).astype(np.float32)).reshape(-1)


def dequantize(ggml_type, raw):
    buf = np.frombuffer(raw, dtype=np.uint8)
    if ggml_type == GGML_F32:
        return buf.view("<f4").astype(np.float32)
    if ggml_type == GGML_F16:
        return buf.view("<f2").astype(np.float32)
    if ggml_type == GGML_BF16:
        return (buf.view("<u2").astype(np.uint32) << 16).view(np.float32)
    if ggml_type == GGML_Q8_0:
        blocks = buf.reshape(-1, 2 + QK)
        d = blocks[:, :2].copy().view("<f2").astype(np.float32)  # [n_blocks, 1]
        q = blocks[:, 2:].view(np.int8).astype(np.float32)
        return (d * q).reshape(-1)
    if ggml_type == GGML_Q4_0:
        blocks = buf.reshape(-1, 2 + QK // 2)
        d = blocks[:, :2].copy().view("<f2").astype(np.float32)
        qs = blocks[:, 2:]
        low = (qs & 0x0F).astype(np.int32) - 8   # elements 0..15 of the block
        high = (qs >> 4).astype(np.int32) - 8    # elements 16..31
        q = np.concatenate([low, high], axis=1).astype(np.float32)
        return (d * q).reshape(-1)
    if ggml_type == GGML_Q4_K:
        return dequantize_q4_K(buf)
    if ggml_type == GGML_Q6_K:
        return dequantize_q6_K(buf)
    raise ValueError(ggml_type)


def encode_tensor(ggml_type, values):
    if ggml_type == GGML_F32:
        return values.astype("<f4").tobytes()
    if ggml_type == GGML_F16:
        return values.astype("<f2").tobytes()
    if ggml_type == GGML_BF16:
        return (values.astype(np.float32).view(np.uint32) >> 16).astype("<u2").tobytes()
    if ggml_type == GGML_Q8_0:
        return quantize_q8_0(values)
    if ggml_type == GGML_Q4_0:
        return quantize_q4_0(values)
    raise ValueError(ggml_type)


def vocabulary():
    tokens = ["<unk>", "<s>", "</s>"] + ["<0x%02X>" % b for b in (0x0A, 0x20, 0xE2, 0x96, 0x81)]
    words = ["▁the", "▁a", "▁cat", "▁sat", "▁on", "▁mat", "▁héllo", "▁wörld", "▁日本", "s", "ed",
             "ing", "▁", "t", "h", "e", "c", "a", "m", "o", "n", "▁d", "og", "▁dog", "▁Once", "▁upon",
             "▁time", ".", ",", "!", "?", "▁I", "▁am", "▁it", "▁is", "▁was", "▁in", "▁x", "▁y", "▁z"]
    tokens += words
    scores = [0.0] * 8 + [-float(i) for i in range(len(words))]
    types = [2, 3, 3] + [6] * 5 + [1] * len(words)
    return tokens, scores, types


def metadata(version, alignment):
    wide = version >= 2  # uint64/int64/float64 value types arrived with GGUF v2
    tokens, scores, types = vocabulary()
    kv = [("general.architecture", STRING, "llama"),
          ("general.name", STRING, "headscope-test")]
    if alignment != 32:
        kv.append(("general.alignment", U32, alignment))
    kv += [("llama.context_length", I32 if wide else U32, N_CTX),
           ("llama.embedding_length", U32, D_MODEL),
           ("llama.block_count", U64 if wide else U32, N_LAYERS),
           ("llama.feed_forward_length", U32, D_MLP),
           ("llama.attention.head_count", U32, N_HEADS),
           ("llama.attention.head_count_kv", U32, N_KV_HEADS),
           ("llama.attention.layer_norm_rms_epsilon", F32, 1e-6),
           ("llama.rope.freq_base", F32, 500000.0),
           ("tokenizer.ggml.model", STRING, "llama"),
           ("tokenizer.ggml.tokens", ARRAY, (STRING, tokens)),
           ("tokenizer.ggml.scores", ARRAY, (F32, scores)),
           ("tokenizer.ggml.token_type", ARRAY, (I32, types)),
           ("tokenizer.ggml.bos_token_id", U32, 1),
           ("tokenizer.ggml.eos_token_id", U32, 2),
           ("tokenizer.ggml.add_space_prefix", BOOL, False),
           # One of every value type, with values at the edges of their ranges.
           ("test.u8", U8, 200), ("test.i8", I8, -100), ("test.u16", U16, 60000),
           ("test.i16", I16, -30000), ("test.u32", U32, 4000000000), ("test.i32", I32, -2000000000),
           ("test.f32", F32, 0.25), ("test.bool", BOOL, True), ("test.string", STRING, "héllo ▁wörld"),
           ("test.empty_string", STRING, ""),
           ("test.arr_i16", ARRAY, (I16, [-3, 0, 7])),
           ("test.arr_bool", ARRAY, (BOOL, [True, False, True])),
           ("test.arr_empty", ARRAY, (U8, [])),
           ("test.nested", ARRAY, (ARRAY, [(U8, [1, 2]), (STRING, ["x", "yz"])])),
           ("test.after_nested", STRING, "still parsed")]
    if wide:
        kv += [("test.u64", U64, 2**63 - 1), ("test.i64", I64, -2**62),
               ("test.f64", F64, 0.1), ("test.arr_f64", ARRAY, (F64, [1.5, -2.25]))]
    return kv


def tensors(rng):
    """(name, ggml type, row-major shape, raw bytes) for every tensor."""
    tokens, _, _ = vocabulary()
    n_vocab, kv_dim = len(tokens), N_KV_HEADS * D_HEAD
    layer_types = [  # q, k, v, o, gate, up, down
        [GGML_Q8_0, GGML_Q4_0, GGML_F16, GGML_BF16, GGML_Q4_0, GGML_Q8_0, GGML_F16],
        [GGML_Q4_0, GGML_Q8_0, GGML_BF16, GGML_F16, GGML_Q8_0, GGML_F32, GGML_Q4_0]]

    def real(name, gtype, shape):
        values = rng.standard_normal(shape).astype(np.float32)
        return name, gtype, shape, encode_tensor(gtype, values)

    out = [real("token_embd.weight", GGML_F32, (n_vocab, D_MODEL)),
           real("output_norm.weight", GGML_F32, (D_MODEL,))]
    for layer, ts in enumerate(layer_types):
        p = "blk.%d." % layer
        out += [real(p + "attn_norm.weight", GGML_F32, (D_MODEL,)),
                real(p + "attn_q.weight", ts[0], (D_MODEL, D_MODEL)),
                real(p + "attn_k.weight", ts[1], (kv_dim, D_MODEL)),
                real(p + "attn_v.weight", ts[2], (kv_dim, D_MODEL)),
                real(p + "attn_output.weight", ts[3], (D_MODEL, D_MODEL)),
                real(p + "ffn_norm.weight", GGML_F32, (D_MODEL,)),
                real(p + "ffn_gate.weight", ts[4], (D_MLP, D_MODEL)),
                real(p + "ffn_up.weight", ts[5], (D_MLP, D_MODEL)),
                real(p + "ffn_down.weight", ts[6], (D_MODEL, D_MLP))]
    # Every half-precision bit pattern (zeros, subnormals, normals, infinities, NaNs).
    out.append(("test.f16_all_bits", GGML_F16, (256, 256), np.arange(65536, dtype="<u2").tobytes()))
    # Random bytes as quantised blocks: arbitrary fp16 scales (incl. inf/NaN) and quants.
    def random_bytes(n):
        return rng.integers(0, 256, n, dtype=np.uint8).tobytes()

    out.append(("test.q8_0_raw", GGML_Q8_0, (3, 64), random_bytes(6 * 34)))
    out.append(("test.q4_0_raw", GGML_Q4_0, (3, 32), random_bytes(3 * 18)))
    out.append(("test.bf16_raw", GGML_BF16, (5,), random_bytes(5 * 2)))
    out.append(("test.q4_K_raw", GGML_Q4_K, (3, 512), random_bytes(6 * Q4_K_BYTES)))
    out.append(("test.q6_K_raw", GGML_Q6_K, (2, 768), random_bytes(6 * Q6_K_BYTES)))
    # The same kinds of blocks with finite, moderate super-block scales, as real files have.
    out.append(("test.q4_K_blocks", GGML_Q4_K, (4, 256), k_blocks(rng, Q4_K_BYTES, 4, (0, 2))))
    out.append(("test.q6_K_blocks", GGML_Q6_K, (4, 256), k_blocks(rng, Q6_K_BYTES, 4, (Q6_K_BYTES - 2,))))
    out.append(("test.q4_K_planted", GGML_Q4_K, (2, 512), planted_k_blocks(rng, GGML_Q4_K, 4)))
    out.append(("test.q6_K_planted", GGML_Q6_K, (1, 768), planted_k_blocks(rng, GGML_Q6_K, 3)))
    out.append(real("test.f32_4d", GGML_F32, (2, 3, 4, 5)))
    out.append(real("test.f16_odd", GGML_F16, (3,)))  # 6 bytes: the next tensor needs padding
    return out


def k_blocks(rng, block_bytes, n_blocks, scale_offsets):
    """Random k-quant super-blocks whose fp16 super-block scales (at scale_offsets) are finite."""
    blocks = rng.integers(0, 256, (n_blocks, block_bytes), dtype=np.uint8)
    for off in scale_offsets:
        scale = rng.uniform(-0.05, 0.05, n_blocks).astype(np.float16).view(np.uint8).reshape(n_blocks, 2)
        blocks[:, off:off + 2] = scale
    return blocks.tobytes()


def pack_q4_K(d, dmin, scales, mins, q):
    """One q4_K super-block from its parts: fp16 d and dmin, 8 six-bit scales and mins, 256
    nibbles. Returns (bytes, the values it encodes: d*scale*q - dmin*min per 32-element sub-block)."""
    sc, mn = np.asarray(scales, np.uint8), np.asarray(mins, np.uint8)
    packed = np.zeros(12, np.uint8)
    packed[0:4] = sc[0:4] | ((sc[4:8] >> 4) << 6)
    packed[4:8] = mn[0:4] | ((mn[4:8] >> 4) << 6)
    packed[8:12] = (sc[4:8] & 0x0F) | ((mn[4:8] & 0x0F) << 4)
    q = np.asarray(q, np.uint8).reshape(4, 64)
    qs = (q[:, :32] | (q[:, 32:] << 4)).astype(np.uint8).reshape(-1)
    raw = to_f16_bits(d).tobytes() + to_f16_bits(dmin).tobytes() + packed.tobytes() + qs.tobytes()
    d32, dmin32 = np.float16(d).astype(np.float32), np.float16(dmin).astype(np.float32)
    sub = np.arange(QK_K) // 32
    values = (d32 * sc[sub].astype(np.float32)) * q.reshape(-1).astype(np.float32) - dmin32 * mn[sub]
    return raw, values.astype(np.float32)


def pack_q6_K(d, scales, q):
    """One q6_K super-block from fp16 d, 16 int8 scales (one per 16 elements) and 256 six-bit q."""
    q = np.asarray(q, np.uint8).reshape(2, 4, 32)  # [half, quarter, lane]
    ql = np.concatenate([(q[:, 0] & 0x0F) | ((q[:, 2] & 0x0F) << 4),
                         (q[:, 1] & 0x0F) | ((q[:, 3] & 0x0F) << 4)], axis=1).astype(np.uint8)
    qh = ((q[:, 0] >> 4) | ((q[:, 1] >> 4) << 2) | ((q[:, 2] >> 4) << 4) | ((q[:, 3] >> 4) << 6))
    sc = np.asarray(scales, np.int8)
    raw = ql.reshape(-1).tobytes() + qh.astype(np.uint8).reshape(-1).tobytes() + sc.tobytes()
    raw += to_f16_bits(d).tobytes()
    d32 = np.float16(d).astype(np.float32)
    values = d32 * (sc[np.arange(QK_K) // 16].astype(np.int32) * (q.reshape(-1).astype(np.int32) - 32))
    return raw, values.astype(np.float32)


def planted_k_blocks(rng, gtype, n_blocks):
    """Super-blocks packed from known parts; checks that dequantize() recovers the planted values."""
    raw, want = b"", []
    for _ in range(n_blocks):
        if gtype == GGML_Q4_K:
            r, v = pack_q4_K(rng.uniform(0.001, 0.02), rng.uniform(0.001, 0.02), rng.integers(0, 64, 8),
                             rng.integers(0, 64, 8), rng.integers(0, 16, QK_K))
        else:
            r, v = pack_q6_K(rng.uniform(-0.02, 0.02), rng.integers(-128, 128, 16), rng.integers(0, 64, QK_K))
        raw += r
        want.append(v)
    got = dequantize(gtype, raw)
    assert np.allclose(got, np.concatenate(want), rtol=1e-6, atol=1e-7), TYPE_NAMES[gtype]
    return raw


def align(n, alignment):
    return (n + alignment - 1) // alignment * alignment


def write(out_dir, version, alignment, seed):
    rng = np.random.default_rng(seed)
    enc = Encoder(version)
    kv = metadata(version, alignment)
    ts = tensors(rng)

    # Place the data in a shuffled order so readers must honour each tensor's own offset.
    order = rng.permutation(len(ts))
    offsets, cursor = {}, 0
    for i in order:
        cursor = align(cursor, alignment)
        offsets[i] = cursor
        cursor += len(ts[i][3])

    header = b"GGUF" + struct.pack("<I", version) + enc.count(len(ts)) + enc.count(len(kv))
    for key, vtype, value in kv:
        header += enc.string(key) + struct.pack("<I", vtype) + enc.value(vtype, value)
    for i, (name, gtype, shape, _) in enumerate(ts):
        header += enc.string(name) + struct.pack("<I", len(shape))
        header += b"".join(enc.count(d) for d in reversed(shape))  # ne[0] is the fastest dim
        header += struct.pack("<I", gtype) + struct.pack("<Q", offsets[i])
    data_start = align(len(header), alignment)
    data = bytearray(cursor)
    for i, (_, _, _, raw) in enumerate(ts):
        data[offsets[i]:offsets[i] + len(raw)] = raw

    os.makedirs(os.path.join(out_dir, "expected"), exist_ok=True)
    with open(os.path.join(out_dir, "model.gguf"), "wb") as f:
        f.write(header + b"\0" * (data_start - len(header)) + bytes(data))
    with open(os.path.join(out_dir, "manifest.tsv"), "w", encoding="utf-8") as manifest:
        for name, gtype, shape, raw in ts:
            numel = int(np.prod(shape))
            with np.errstate(all="ignore"):  # inf/NaN scales in the raw-byte tensors
                values = dequantize(gtype, raw)
            assert values.size == numel
            values.astype("<f4").tofile(os.path.join(out_dir, "expected", name + ".f32"))
            manifest.write("%s\t%s\t%s\n" % (name, TYPE_NAMES[gtype], ",".join(map(str, shape))))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--version", type=int, choices=(1, 2, 3), required=True)
    parser.add_argument("--alignment", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    write(args.out, args.version, args.alignment, args.seed)


if __name__ == "__main__":
    main()
