// llama.cpp's tokenizer.ggml.* metadata keys (LLM_KV_TOKENIZER_*), shared by the SentencePiece
// vocabulary and the byte-level BPE tokenizer readers.
#pragma once

namespace headscope::gguf_keys {

constexpr const char* kTokenizerModel = "tokenizer.ggml.model";
constexpr const char* kTokenizerPre = "tokenizer.ggml.pre";
constexpr const char* kTokens = "tokenizer.ggml.tokens";
constexpr const char* kScores = "tokenizer.ggml.scores";
constexpr const char* kTokenType = "tokenizer.ggml.token_type";
constexpr const char* kMerges = "tokenizer.ggml.merges";
constexpr const char* kBosId = "tokenizer.ggml.bos_token_id";
constexpr const char* kEosId = "tokenizer.ggml.eos_token_id";
constexpr const char* kUnkId = "tokenizer.ggml.unknown_token_id";
constexpr const char* kAddSpacePrefix = "tokenizer.ggml.add_space_prefix";

}  // namespace headscope::gguf_keys
