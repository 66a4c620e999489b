#!/usr/bin/env python3
"""Dumps a llama2.c tokenizer.bin, parsed independently of headscope, for its tests.

Usage: spm_dump_vocab.py TOKENIZER_BIN VOCAB_SIZE
Prints the header's max_token_length on the first line, then per token one line
"<score as repr()> <piece as hex>".
"""
import struct
import sys


def main():
    path, vocab_size = sys.argv[1], int(sys.argv[2])
    with open(path, "rb") as f:
        data = f.read()
    (max_len,) = struct.unpack_from("<i", data, 0)
    print(max_len)
    offset = 4
    for _ in range(vocab_size):
        score, length = struct.unpack_from("<fi", data, offset)
        offset += 8
        print(repr(score), data[offset:offset + length].hex())
        offset += length
    if offset != len(data):
        sys.exit("trailing bytes after %d tokens" % vocab_size)


if __name__ == "__main__":
    main()
