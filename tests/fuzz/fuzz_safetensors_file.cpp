// safetensors single file: header JSON, dtypes, shapes and byte ranges, then every small
// tensor converted to float32 (SafetensorsFile, as `headscope info/run` open model.safetensors).
#include "fuzz_support.hpp"
#include "headscope/formats/safetensors_file.hpp"
#include "tensor_reads.hpp"

HEADSCOPE_FUZZ_TARGET {
    using namespace headscope;
    const std::string path = fuzz::write_scratch("model.safetensors", data, size);
    fuzz::expect_clean(path, [&] {
        SafetensorsFile file(path);
        (void)file.metadata();
        fuzz::read_small_tensors(file);
    });
    return 0;
}
