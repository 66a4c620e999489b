// tokenizer_config.json next to a valid tokenizer.json: its bos_token / eos_token (strings,
// {"content": ...} objects, null) decide the special tokens when the tokenizer is loaded.
#include <filesystem>

#include "fuzz_support.hpp"
#include "headscope/tokenizer.hpp"

namespace {

// A small tokenizer (no byte-level regex to compile), so each input costs little.
const std::string& tokenizer_dir() {
    static const std::string dir = [] {
        using namespace headscope;
        const std::string d = fuzz::scratch_dir() + "/tok";
        std::filesystem::create_directories(d);
        fuzz::write_scratch("tok/tokenizer.json", R"({"added_tokens":[{"id":0,"content":"<s>","special":true},
{"id":1,"content":"</s>","special":true},{"id":2,"content":"<|endoftext|>","special":true}],
"model":{"type":"BPE","vocab":{"<s>":0,"</s>":1,"<|endoftext|>":2,"t":3,"h":4,"e":5,"th":6,"the":7," ":8,"c":9,"a":10},
"merges":["t h","th e"]}})");
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
