// llama2.c tokenizer.bin: the first two input bytes give the vocabulary size the checkpoint
// would (little-endian, 0..65535), the rest is the file. The vocabulary then drives the
// SentencePiece-style tokenizer through encode, decode and token_text.
#include <algorithm>

#include "fuzz_support.hpp"
#include "headscope/tokenizer.hpp"

HEADSCOPE_FUZZ_TARGET {
    using namespace headscope;
    if (size < 2) return 0;
    const int32_t vocab_size = data[0] | (data[1] << 8);
    const std::string path = fuzz::write_scratch("tokenizer.bin", data + 2, size - 2);
    fuzz::expect_clean(path, [&] {
        auto tokenizer = make_sentencepiece_tokenizer(read_llama2c_vocabulary(path, vocab_size));
        const Encoding e = tokenizer->encode("Once upon a time, 42 \xC3\xA9t\xC3\xA9 \xFF\n", true);
        (void)tokenizer->decode(e.ids);
        for (int32_t id = 0; id < std::min(tokenizer->vocab_size(), 64); ++id) (void)tokenizer->token_text(id);
    });
    return 0;
}
