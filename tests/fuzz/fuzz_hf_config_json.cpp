// Hugging Face config.json -> ModelConfig (read_hf_config, as `headscope info DIR` reads it):
// model_type dispatch, every family's keys and defaults, and the consistency checks.
#include "fuzz_support.hpp"
#include "headscope/formats/hf_config.hpp"

HEADSCOPE_FUZZ_TARGET {
    using namespace headscope;
    const std::string path = fuzz::write_scratch("config.json", data, size);
    fuzz::expect_clean(path, [&] { (void)read_hf_config(path); });
    return 0;
}
