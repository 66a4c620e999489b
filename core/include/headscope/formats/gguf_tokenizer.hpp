// The tokenizer embedded in a GGUF file (tokenizer.ggml.*), for both vocabulary kinds llama.cpp
// writes:
//   "llama" — SentencePiece pieces with scores (gguf_vocabulary + make_sentencepiece_tokenizer);
//   "gpt2"  — byte-level BPE: tokens in GPT-2's byte-to-unicode spelling, merges "a b" ranked by
//             position, token types (control and user-defined tokens are matched verbatim before
//             BPE, as tokenizer.json's added tokens), and the pre-tokenizer named by
//             tokenizer.ggml.pre (llama-bpe, qwen2, gpt-2, ...; absent means llama.cpp's default).
// The gpt2 kind runs through the same pipeline as a tokenizer.json, so a GGUF converted from a
// model tokenizes exactly as that model's tokenizer.json does. Throws FormatError naming the
// file and key.
#pragma once

#include <memory>

#include "headscope/tokenizer.hpp"

namespace headscope {

class GgufFile;

std::unique_ptr<Tokenizer> gguf_tokenizer(const GgufFile& file);

}  // namespace headscope
