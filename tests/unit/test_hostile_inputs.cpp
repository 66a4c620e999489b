// Small hostile files that used to exhaust the machine or escape the error handling (issue 17,
// and what the fuzz targets in tests/fuzz found): each is refused — or, where the input has a
// harmless meaning, handled — with a FormatError/ConfigError naming the file, the key and the
// limit, and the peak memory (VmHWM, reset before each case) stays small.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

#include "headscope/error.hpp"
#include "headscope/formats/gguf_file.hpp"
#include "headscope/formats/hf_config.hpp"
#include "headscope/formats/safetensors_file.hpp"
#include "headscope/sdk/prompts.hpp"
#include "headscope/sdk/result_store.hpp"
#include "headscope/tokenizer.hpp"
#include "headscope/tutorial_tasks.hpp"
#include "support/test_support.hpp"
#include "unit/test_gguf_builder.hpp"

using namespace headscope;
using namespace headscope::test;
using nlohmann::json;
using Catch::Matchers::Contains;

namespace {

// Peak resident memory of this process in bytes since the last reset_peak_memory().
size_t peak_memory() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
    }
    FAIL("no VmHWM in /proc/self/status");
    return 0;
}
size_t resident_memory() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
    }
    return 0;
}
// Writing 5 to clear_refs resets VmHWM to the current resident size (Linux >= 4.0).
void reset_peak_memory() { std::ofstream("/proc/self/clear_refs") << "5"; }

// Runs `body` and checks it raised the peak resident memory by less than `limit` bytes.
template <class Body>
void within_memory(size_t limit, Body body) {
    reset_peak_memory();
    const size_t before = std::max(peak_memory(), resident_memory());
    body();
    const size_t grown = peak_memory() - std::min(before, peak_memory());
    INFO("peak memory grew by " << grown / 1024 << " KiB");
    CHECK(grown < limit);
}
constexpr size_t kMiB = 1024 * 1024;

// The FormatError message of load_hf_tokenizer(path), checking it names `file`.
std::string tokenizer_refusal(const std::string& path, const std::string& file) {
    try {
        load_hf_tokenizer(path);
    } catch (const FormatError& e) {
        CHECK(e.file() == file);
        return e.what();
    }
    FAIL("no FormatError for " << path);
    return "";
}

// The FormatError message of tokenizer.encode(text), checking it names `file`.
std::string encode_refusal(const Tokenizer& tokenizer, const std::string& text, const std::string& file) {
    try {
        tokenizer.encode(text, false);
    } catch (const FormatError& e) {
        CHECK(e.file() == file);
        return e.what();
    }
    FAIL("no FormatError encoding \"" << text << "\"");
    return "";
}

json minimal_bpe() {
    return json{{"model", {{"type", "BPE"}, {"vocab", {{"h", 0}, {"i", 1}, {"hi", 2}, {" ", 3}}}, {"merges", {"h i"}}}}};
}

std::vector<int32_t> encode(const std::string& path, const std::string& text) {
    return load_hf_tokenizer(path)->encode(text, false).ids;
}

}  // namespace

TEST_CASE("hostile: JSON numbers out of double range in tokenizer.json and tokenizer_config.json",
          "[hostile][hf_tokenizer]") {
    TempDir tmp;
    const std::string file = tmp.file("tokenizer.json");
    within_memory(16 * kMiB, [&] {
        write_file(file, "1e402");
        CHECK_THAT(tokenizer_refusal(file, file), Contains(file + ": not valid JSON: ") && Contains("1e402"));
        write_file(file, R"({"model": {"type": "BPE", "vocab": {"a": 1e999}, "merges": []}})");
        CHECK_THAT(tokenizer_refusal(file, file), Contains(file + ": not valid JSON: "));
    });
    write_file(file, minimal_bpe().dump());
    const std::string config = tmp.file("tokenizer_config.json");
    for (const char* text : {R"({"eos_token": 1e999})", R"({"bos_token": {"content": -1e400}})"}) {
        write_file(config, text);
        within_memory(16 * kMiB, [&] {
            CHECK_THAT(tokenizer_refusal(tmp.path(), config), Contains(config + ": not valid JSON: "));
        });
    }
}

TEST_CASE("hostile: every JSON reader names the file for a number out of range", "[hostile][json]") {
    TempDir tmp;
    const auto expect = [](const std::string& file, auto read) {
        within_memory(16 * kMiB, [&] {
            try {
                read();
                FAIL("no error for " << file);
            } catch (const FormatError& e) {
                CHECK(e.file() == file);
                CHECK_THAT(e.what(), Contains("not valid JSON") && Contains("number overflow"));
            }
        });
    };
    const std::string config = tmp.file("config.json");
    write_file(config, R"({"model_type": "llama", "hidden_size": 1e402})");
    expect(config, [&] { read_hf_config(tmp.path()); });

    const std::string index = tmp.file("model.safetensors.index.json");
    write_file(index, R"({"metadata": {"total_size": 1e402}, "weight_map": {}})");
    expect(index, [&] { SafetensorsCheckpoint checkpoint(tmp.path()); });
    std::filesystem::remove(index);

    const std::string prompts = tmp.file("prompts.jsonl");
    write_file(prompts, "{\"prompt\": \"a\", \"answer\": 1e402}\n");
    expect(prompts, [&] { load_prompt_set(prompts); });
    expect(prompts, [&] { tutorial::read_prompts_jsonl(prompts); });

    const std::string header = R"({"t": {"dtype": "F32", "shape": [1e402], "data_offsets": [0, 4]}})";
    const std::string st = tmp.file("model.safetensors");
    std::string bytes(8, '\0');
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((header.size() >> (8 * i)) & 0xFF);
    write_file(st, bytes + header + std::string(4, '\0'));
    expect(st, [&] { SafetensorsFile file(st); });
}

TEST_CASE("hostile: chained Replace normalizers whose regex matches nothing", "[hostile][hf_tokenizer]") {
    TempDir tmp;
    const std::string file = tmp.file("tokenizer.json");
    json plain = minimal_bpe();
    write_file(file, plain.dump());
    const std::vector<int32_t> expected = encode(file, "hi hi hih");
    REQUIRE(expected == std::vector<int32_t>{2, 3, 2, 3, 2, 0});

    // 12 Replace normalizers with an empty regex (and one with a lookahead): a match that
    // consumes nothing replaces nothing, so the text — and the encoding — are unchanged.
    json hostile = plain;
    json steps = json::array();
    for (int i = 0; i < 12; ++i)
        steps.push_back({{"type", "Replace"}, {"pattern", {{"Regex", i == 11 ? "(?=i)" : ""}}}, {"content", "XYZW"}});
    hostile["normalizer"] = {{"type", "Sequence"}, {"normalizers", steps}};
    write_file(file, hostile.dump());
    within_memory(16 * kMiB, [&] { CHECK(encode(file, "hi hi hih") == expected); });
}

TEST_CASE("hostile: normalizers that grow the text exponentially are stopped", "[hostile][hf_tokenizer]") {
    TempDir tmp;
    const std::string file = tmp.file("tokenizer.json");
    const auto doubling = [&](int steps) {  // each step doubles every 'h'
        json hostile = minimal_bpe();
        hostile["normalizer"] = {{"type", "Sequence"}, {"normalizers", json::array()}};
        for (int i = 0; i < steps; ++i)
            hostile["normalizer"]["normalizers"].push_back(
                {{"type", "Replace"}, {"pattern", {{"String", "h"}}}, {"content", "hh"}});
        write_file(file, hostile.dump());
        return load_hf_tokenizer(file);
    };
    // Growth within 16x + 256 bytes is ordinary: "hi" -> 8 h's and an i -> h x 7, hi.
    CHECK(doubling(3)->encode("hi", false).ids == std::vector<int32_t>{0, 0, 0, 0, 0, 0, 0, 2});
    auto tokenizer = doubling(30);
    within_memory(16 * kMiB, [&] {
        CHECK_THAT(encode_refusal(*tokenizer, "hi", file),
                   Contains("the limit is 16x the text + 256 bytes") && Contains("degenerate"));
    });
}

TEST_CASE("hostile: 40 chained ByteLevel pre-tokenizers", "[hostile][hf_tokenizer]") {
    TempDir tmp;
    const std::string file = tmp.file("tokenizer.json");
    json hostile = minimal_bpe();
    const json byte_level = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}};
    hostile["pre_tokenizer"] = {{"type", "Sequence"}, {"pretokenizers", json::array()}};
    for (int i = 0; i < 40; ++i) hostile["pre_tokenizer"]["pretokenizers"].push_back(byte_level);
    write_file(file, hostile.dump());
    within_memory(16 * kMiB, [&] {
        CHECK_THAT(tokenizer_refusal(file, file),
                   Contains("pre_tokenizer.pretokenizers[31]") && Contains("more than 32"));
    });

    // Within the component limit, the growth limit stops the doubling at encode time.
    hostile["pre_tokenizer"]["pretokenizers"] = json::array();
    for (int i = 0; i < 24; ++i) hostile["pre_tokenizer"]["pretokenizers"].push_back(byte_level);
    write_file(file, hostile.dump());
    auto tokenizer = load_hf_tokenizer(file);
    within_memory(16 * kMiB, [&] {
        CHECK_THAT(encode_refusal(*tokenizer, "\xC3\xA9t\xC3\xA9 hi", file), Contains("bytes (the limit is"));
    });
}

TEST_CASE("hostile: vocabulary and added-token ids far beyond the vocabulary size", "[hostile][hf_tokenizer]") {
    TempDir tmp;
    const std::string file = tmp.file("tokenizer.json");
    within_memory(16 * kMiB, [&] {
        write_file(file, R"({"model":{"type":"BPE","vocab":{"a":16777215},"merges":[]}})");
        CHECK_THAT(tokenizer_refusal(file, file),
                   Contains("model.vocab[\"a\"]") && Contains("16777215") && Contains("[0, 65538]"));
        json added = minimal_bpe();
        added["added_tokens"] = {{{"id", 9000000}, {"content", "<big>"}}};
        write_file(file, added.dump());
        CHECK_THAT(tokenizer_refusal(file, file), Contains("added_tokens[0].id") && Contains("[0, 65546]"));
    });
    // Gaps within the limit are fine: the id -> piece table is sized by the largest id.
    write_file(file, R"({"model":{"type":"BPE","vocab":{"a":0,"b":65538},"merges":[]}})");
    auto tokenizer = load_hf_tokenizer(file);
    CHECK(tokenizer->vocab_size() == 65539);
    CHECK(tokenizer->encode("ab", false).ids == std::vector<int32_t>{0, 65538});
}

TEST_CASE("hostile: context lengths beyond 2^24 in GGUF and config.json", "[hostile][config]") {
    using namespace headscope::test::gguf;
    TempDir tmp;
    const std::string path = tmp.file("model.gguf");
    const auto gguf_with_context = [&](uint32_t n) {
        GgufBuilder b = tiny_llama(3, {"llama.context_length"});
        b.kv_u32("llama.context_length", n);
        write_file(path, b.build());
    };
    gguf_with_context(2147483647u);
    within_memory(16 * kMiB, [&] {
        GgufFile file(path);
        try {
            gguf_model_config(file);
            FAIL("no error");
        } catch (const FormatError& e) {
            CHECK(e.file() == path);
            CHECK_THAT(e.what(), Contains("llama.context_length") && Contains("2147483647") && Contains("16777216"));
        }
    });
    gguf_with_context(10485760u);  // a 10M-token model is accepted
    CHECK(gguf_model_config(GgufFile(path)).n_ctx == 10485760);

    const std::string config = tmp.file("config.json");
    const auto config_with_context = [&](int64_t n) {
        write_file(config, json{{"model_type", "llama"}, {"num_hidden_layers", 1}, {"num_attention_heads", 2},
                                {"hidden_size", 8}, {"intermediate_size", 16}, {"vocab_size", 8},
                                {"max_position_embeddings", n}}.dump());
    };
    config_with_context(2147483647);
    within_memory(16 * kMiB, [&] {
        CHECK_THROWS_WITH(read_hf_config(tmp.path()), Contains(config) && Contains("max_position_embeddings") &&
                                                          Contains("2147483647") && Contains("16777216"));
    });
    config_with_context(1048576);
    CHECK(read_hf_config(tmp.path()).n_ctx == 1048576);
}
