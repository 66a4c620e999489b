// The pre-tokenizers llama.cpp names in tokenizer.ggml.pre for byte-level BPE ("gpt2")
// vocabularies, as the regular expressions the Hugging Face tokenizer.json of those models
// splits with (applied in order, each match isolated), whether merges are skipped for words
// already in the vocabulary (ignore_merges), and whether the text is NFC-normalized first.
#pragma once

#include <string>
#include <vector>

namespace headscope::formats {

struct GgufPreTokenizer {
    std::vector<const char*> names;    // tokenizer.ggml.pre values that select it
    std::vector<const char*> regexes;  // split patterns, applied in order
    bool ignore_merges = false;
    bool nfc = false;
};

// nullptr when llama.cpp has no such name, or headscope does not support it.
const GgufPreTokenizer* find_gguf_pre_tokenizer(const std::string& name);

// "default, gpt-2, llama-bpe, ...", for error messages.
std::string supported_gguf_pre_tokenizers();

}  // namespace headscope::formats
