#!/usr/bin/env python3
"""Independent GPT-2 byte-level BPE encoder, the reference for headscope's HF tokenizer tests.

It follows OpenAI's original encoder.py algorithm (bytes_to_unicode, get_pairs, repeated
lowest-rank merge) and reads vocab.json + merges.txt, not tokenizer.json. Python's `re` has no
\\p{L}/\\p{N}, so the pre-tokenization pattern is spelled with explicit character classes built
from unicodedata's general categories; \\s is Unicode's White_Space property, as in the `regex`
module GPT-2 used and in Oniguruma, which Hugging Face tokenizers uses.

Usage: hf_tok_gpt2_reference.py VOCAB_JSON MERGES_TXT INPUT_FILE [--pattern gpt2|llama3]
                                [--special TOKEN]...
INPUT_FILE holds one hex-encoded UTF-8 text per line. For each text one line is printed:
space-separated "id:begin:end" triples, with [begin, end) the token's byte range in the text
(an empty line for an empty text). Special tokens are cut out of the text first and map to their
vocabulary id, as Hugging Face's added tokens are.
"""
import argparse
import json
import re
import sys
import unicodedata


def bytes_to_unicode():
    bs = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
          + list(range(ord("®"), ord("ÿ") + 1)))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def get_pairs(word):
    return {(word[i], word[i + 1]) for i in range(len(word) - 1)}


def category_class(prefix):
    """Body of a [...] class holding every code point whose general category starts with prefix."""
    ranges = []
    start = None
    for cp in range(sys.maxunicode + 2):
        inside = cp <= sys.maxunicode and unicodedata.category(chr(cp)).startswith(prefix)
        if inside and start is None:
            start = cp
        elif not inside and start is not None:
            ranges.append((start, cp - 1))
            start = None
    return "".join(f"\\U{a:08X}" if a == b else f"\\U{a:08X}-\\U{b:08X}" for a, b in ranges)


# Unicode White_Space (PropList.txt).
WHITE_SPACE = "\\t\\n\\x0b\\x0c\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"


def build_pattern(name):
    L = category_class("L")
    N = category_class("N")
    S = WHITE_SPACE
    if name == "gpt2":
        # 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
        src = (f"'s|'t|'re|'ve|'m|'ll|'d| ?[{L}]+| ?[{N}]+| ?[^{S}{L}{N}]+"
               f"|[{S}]+(?![^{S}])|[{S}]+")
    elif name == "llama3":
        # (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}
        # | ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
        src = (f"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n{L}{N}]?[{L}]+|[{N}]{{1,3}}"
               f"| ?[^{S}{L}{N}]+[\\r\\n]*|[{S}]*[\\r\\n]+|[{S}]+(?![^{S}])|[{S}]+")
    else:
        raise SystemExit(f"unknown pattern {name}")
    return re.compile(src)


class Encoder:
    def __init__(self, vocab, merges, pattern):
        self.encoder = vocab
        self.bpe_ranks = {pair: i for i, pair in enumerate(merges)}
        self.byte_encoder = bytes_to_unicode()
        self.pat = pattern
        self.cache = {}

    def bpe(self, token):
        if token in self.cache:
            return self.cache[token]
        word = tuple(token)
        pairs = get_pairs(word)
        while pairs:
            bigram = min(pairs, key=lambda pair: self.bpe_ranks.get(pair, float("inf")))
            if bigram not in self.bpe_ranks:
                break
            first, second = bigram
            new_word = []
            i = 0
            while i < len(word):
                try:
                    j = word.index(first, i)
                except ValueError:
                    new_word.extend(word[i:])
                    break
                new_word.extend(word[i:j])
                i = j
                if word[i] == first and i < len(word) - 1 and word[i + 1] == second:
                    new_word.append(first + second)
                    i += 2
                else:
                    new_word.append(word[i])
                    i += 1
            word = tuple(new_word)
            if len(word) == 1:
                break
            pairs = get_pairs(word)
        self.cache[token] = word
        return word

    def encode(self, text, base):
        """Tokens of text as (id, begin, end), byte offsets counted from base."""
        out = []
        pos = base
        for match in self.pat.findall(text):
            token = "".join(self.byte_encoder[b] for b in match.encode("utf-8"))
            for piece in self.bpe(token):
                # Every character of a byte-level piece stands for exactly one byte.
                out.append((self.encoder[piece], pos, pos + len(piece)))
                pos += len(piece)
        return out, pos


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("vocab")
    ap.add_argument("merges")
    ap.add_argument("inputs")
    ap.add_argument("--pattern", default="gpt2")
    ap.add_argument("--special", action="append", default=[])
    args = ap.parse_args()

    with open(args.vocab, encoding="utf-8") as f:
        vocab = json.load(f)
    with open(args.merges, encoding="utf-8") as f:
        lines = f.read().split("\n")
    merges = [tuple(line.split(" ")) for line in lines[1:] if line and not line.startswith("#version")]
    enc = Encoder(vocab, merges, build_pattern(args.pattern))

    specials = sorted(args.special, key=len, reverse=True)
    special_re = re.compile("|".join(re.escape(s) for s in specials)) if specials else None

    with open(args.inputs, encoding="ascii") as f:
        hex_lines = f.read().split("\n")
    if hex_lines and hex_lines[-1] == "":
        hex_lines.pop()
    out_lines = []
    for hex_text in hex_lines:
        text = bytes.fromhex(hex_text).decode("utf-8")
        tokens = []
        pos = 0  # byte offset
        rest = text
        while rest:
            m = special_re.search(rest) if special_re else None
            head = rest if m is None else rest[:m.start()]
            got, pos = enc.encode(head, pos)
            tokens += got
            if m is None:
                break
            length = len(m.group(0).encode("utf-8"))
            tokens.append((vocab[m.group(0)], pos, pos + length))
            pos += length
            rest = rest[m.end():]
        out_lines.append(" ".join(f"{i}:{b}:{e}" for i, b, e in tokens))
    sys.stdout.write("\n".join(out_lines) + "\n")


if __name__ == "__main__":
    main()
