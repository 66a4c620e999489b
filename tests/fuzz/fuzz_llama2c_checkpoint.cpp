// llama2.c checkpoint (.bin): the seven-int header, sizes against the file, the ModelConfig,
// and every small tensor.
#include "fuzz_support.hpp"
#include "headscope/formats/llama2c_file.hpp"
#include "tensor_reads.hpp"

HEADSCOPE_FUZZ_TARGET {
    using namespace headscope;
    const std::string path = fuzz::write_scratch("model.bin", data, size);
    fuzz::expect_clean(path, [&] {
        Llama2cFile file(path);
        fuzz::expect_clean(path, [&] { (void)llama2c_model_config(file); });
        fuzz::read_small_tensors(file);
    });
    return 0;
}
