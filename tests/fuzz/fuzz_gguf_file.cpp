// GGUF: header, metadata, tensor table, the llama ModelConfig and the embedded vocabulary (as
// `headscope info` reads them), dequantisation of every small tensor, and a tokenizer built
// from the vocabulary encoding and decoding a short text.
#include "fuzz_support.hpp"
#include "headscope/formats/gguf_file.hpp"
#include "tensor_reads.hpp"

HEADSCOPE_FUZZ_TARGET {
    using namespace headscope;
    const std::string path = fuzz::write_scratch("model.gguf", data, size);
    fuzz::expect_clean(path, [&] {
        GgufFile file(path);
        fuzz::expect_clean(path, [&] { (void)gguf_model_config(file); });
        fuzz::expect_clean(path, [&] {
            auto tokenizer = make_sentencepiece_tokenizer(gguf_vocabulary(file));
            const Encoding e = tokenizer->encode("Once upon a time, 42 \xC3\xA9t\xC3\xA9\n", true);
            (void)tokenizer->decode(e.ids);
        });
        fuzz::read_small_tensors(file);
    });
    return 0;
}
