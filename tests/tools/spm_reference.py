#!/usr/bin/env python3
"""Independent reference for headscope's SentencePiece-style tokenizer.

A plain re-implementation of llama2.c's run.c `encode` (not of headscope's code): it reads a
llama2.c tokenizer.bin itself, looks every UTF-8 character up as a piece (else byte fallback to
id byte+3), then merges by rescanning all adjacent pairs for the best-scoring concatenation
(leftmost on ties) until none is a piece.

Usage: spm_reference.py TOKENIZER_BIN VOCAB_SIZE STRINGS_FILE [--bos]
STRINGS_FILE holds one hex-encoded UTF-8 string per line (an empty line is the empty string).
Prints one JSON array of token ids per input line, in order.
"""
import json
import struct
import sys


def read_tokenizer(path, vocab_size):
    with open(path, "rb") as f:
        data = f.read()
    (max_len,) = struct.unpack_from("<i", data, 0)
    offset = 4
    pieces, scores = [], []
    for _ in range(vocab_size):
        score, length = struct.unpack_from("<fi", data, offset)
        offset += 8
        pieces.append(data[offset:offset + length])
        offset += length
        scores.append(score)
    assert all(len(p) <= max_len for p in pieces)
    return pieces, scores


def encode(text, pieces, scores, lookup, add_bos):
    tokens = []
    if add_bos:
        tokens.append(1)
    if text:
        tokens.append(lookup[b" "])  # the dummy prefix, as llama2.c (and SentencePiece) add it
    for ch in text:
        raw = ch.encode("utf-8")
        if raw in lookup:
            tokens.append(lookup[raw])
        else:
            tokens.extend(b + 3 for b in raw)  # byte fallback: <0x00> is id 3

    neg_inf = float("-inf")

    def pair_score(i):
        merged = pieces[tokens[i]] + pieces[tokens[i + 1]]
        tid = lookup.get(merged)
        return (scores[tid], tid) if tid is not None else (neg_inf, -1)

    pairs = [pair_score(i) for i in range(len(tokens) - 1)]
    while pairs:
        best = max(p[0] for p in pairs)
        if best == neg_inf:
            break
        i = next(k for k, p in enumerate(pairs) if p[0] == best)  # leftmost of the best
        tokens[i:i + 2] = [pairs[i][1]]
        del pairs[i]
        # Only the pairs touching the merged token changed; recompute those.
        if i > 0:
            pairs[i - 1] = pair_score(i - 1)
        if i < len(tokens) - 1:
            pairs[i] = pair_score(i)
    return tokens


def main():
    path, vocab_size, strings_file = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    add_bos = "--bos" in sys.argv[4:]
    pieces, scores = read_tokenizer(path, vocab_size)
    lookup = {}
    for i, p in enumerate(pieces):
        lookup.setdefault(p, i)
    with open(strings_file, "r", encoding="ascii") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for line in lines:
        text = bytes.fromhex(line).decode("utf-8")
        print(json.dumps(encode(text, pieces, scores, lookup, add_bos)))


if __name__ == "__main__":
    main()
