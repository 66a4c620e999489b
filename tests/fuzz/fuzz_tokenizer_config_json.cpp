// tokenizer_config.json next to a valid tokenizer.json: its bos_token / eos_token (strings,
// {"content": ...} objects, null) decide the special tokens when the tokenizer is loaded.
#include <filesystem>

#include "fuzz_support.hpp"
#include "headscope/bpe_trainer.hpp"
#include "headscope/tokenizer.hpp"

namespace {

const std::string& tokenizer_dir() {
    static const std::string dir = [] {
        using namespace headscope;
        BpeTrainer trainer;
        trainer.add_text("the cat sat on the mat. the dog sat on the log.");
        BpeTrainerOptions options;
        options.max_vocab = 300;
        options.special_tokens = {"<s>", "</s>"};
        const std::string d = fuzz::scratch_dir() + "/tok";
        std::filesystem::create_directories(d);
        fuzz::write_scratch("tok/tokenizer.json", to_hf_tokenizer_json(trainer.train(options)));
        return d;
    }();
    return dir;
}

}  // namespace

HEADSCOPE_FUZZ_TARGET {
    using namespace headscope;
    const std::string dir = tokenizer_dir();
    const std::string path = fuzz::write_scratch("tok/tokenizer_config.json", data, size);
    fuzz::expect_clean(path, [&] {
        auto tokenizer = load_hf_tokenizer(dir);
        (void)tokenizer->encode("the cat", true);
    });
    return 0;
}
