// Hugging Face tokenizer.json: load (normalizers, pre-tokenizers, BPE model, added tokens,
// decoders, post-processor), then encode and decode texts. The input may carry its own text to
// encode after a "\n#TEXT#\n" line; fixed texts with spaces, digits, multi-byte and invalid
// UTF-8 and special-token look-alikes are always encoded too.
#include <algorithm>

#include "fuzz_support.hpp"
#include "headscope/tokenizer.hpp"

HEADSCOPE_FUZZ_TARGET {
    using namespace headscope;
    const auto [json, text] = fuzz::split_input(data, size, "\n#TEXT#\n");
    const std::string path = fuzz::write_scratch("tokenizer.json", json);
    fuzz::expect_clean(path, [&, text = text] {
        auto tokenizer = load_hf_tokenizer(path);
        for (std::string_view s : {std::string_view("Hello world, it's 2024!  \xC3\xA9t\xC3\xA9 <s> \xF0\x9F\x98\x80"),
                                   std::string_view("\xFF\xFE ab\tc\n"), std::string_view(), text}) {
            const Encoding e = tokenizer->encode(s, true);
            (void)tokenizer->decode(e.ids);
            for (int32_t id : e.ids) (void)tokenizer->token_text(id);
        }
        for (int32_t id = 0; id < std::min(tokenizer->vocab_size(), 32); ++id) (void)tokenizer->piece(id);
    });
    return 0;
}
