// Malformed or unsupported tokenizer.json files are refused with a FormatError that names the
// file and the problem.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <filesystem>

#include "headscope/error.hpp"
#include "headscope/tokenizer.hpp"
#include "support/test_support.hpp"

using namespace headscope;
using namespace headscope::test;
using nlohmann::json;

namespace {

json minimal() {
    return json{{"model",
                 {{"type", "BPE"},
                  {"vocab", {{"a", 0}, {"b", 1}, {"ab", 2}}},
                  {"merges", {"a b"}}}}};
}

// Loads `text` as tokenizer.json and returns the FormatError's message ("" if none thrown).
std::string load_error_text(const std::string& text) {
    TempDir tmp;
    const std::string file = tmp.file("tokenizer.json");
    write_file(file, text);
    try {
        load_hf_tokenizer(file);
    } catch (const FormatError& e) {
        CHECK(e.file() == file);
        return e.what();
    }
    return "";
}

std::string load_error(const json& config) { return load_error_text(config.dump()); }

}  // namespace

TEST_CASE("a minimal BPE tokenizer.json loads", "[hf_tokenizer]") {
    TempDir tmp;
    write_file(tmp.file("tokenizer.json"), minimal().dump());
    const auto tok = load_hf_tokenizer(tmp.file("tokenizer.json"));
    CHECK(tok->encode("abba", false).ids == std::vector<int32_t>{2, 1, 0});
    CHECK(tok->bos_id() == -1);
    CHECK(tok->eos_id() == -1);
    // No BOS: add_bos has nothing to add.
    CHECK(tok->encode("ab", true).ids == std::vector<int32_t>{2});
    // No decoder: pieces joined with spaces, as HF does.
    CHECK(tok->decode({2, 1}) == "ab b");
    // Characters outside the vocabulary without unk or byte fallback are dropped (HF does the
    // same); what is left around them still merges.
    Encoding e = tok->encode("axa", false);
    CHECK(e.ids == std::vector<int32_t>{0, 0});
    CHECK(e.offsets == std::vector<std::pair<size_t, size_t>>{{0, 1}, {2, 3}});
    e = tok->encode("axb", false);
    CHECK(e.ids == std::vector<int32_t>{2});
    CHECK(e.offsets == std::vector<std::pair<size_t, size_t>>{{0, 3}});
}

TEST_CASE("continuing_subword_prefix and end_of_word_suffix", "[hf_tokenizer]") {
    TempDir tmp;
    // Suffix style (original BPE, CLIP): the last character of a word carries "</w>".
    json c = {{"model",
               {{"type", "BPE"},
                {"end_of_word_suffix", "</w>"},
                {"vocab", {{"a", 0}, {"b</w>", 1}, {"ab</w>", 2}, {"b", 3}, {"a</w>", 4}}},
                {"merges", {"a b</w>"}}}},
              {"pre_tokenizer", {{"type", "WhitespaceSplit"}}},
              {"decoder", {{"type", "BPEDecoder"}, {"suffix", "</w>"}}}};
    write_file(tmp.file("tokenizer.json"), c.dump());
    auto tok = load_hf_tokenizer(tmp.path());
    CHECK(tok->encode("ab ba", false).ids == std::vector<int32_t>{2, 3, 4});
    CHECK(tok->decode({2, 3, 4}) == "ab ba");
    // Prefix style: every character after the first carries "##"; "a" + "##b" merges to "ab".
    c = {{"model",
          {{"type", "BPE"},
           {"continuing_subword_prefix", "##"},
           {"vocab", {{"a", 0}, {"##b", 1}, {"ab", 2}, {"##a", 3}}},
           {"merges", {"a ##b"}}}}};
    write_file(tmp.file("tokenizer.json"), c.dump());
    tok = load_hf_tokenizer(tmp.path());
    CHECK(tok->encode("aba", false).ids == std::vector<int32_t>{2, 3});
}

TEST_CASE("tokenizer.json that is not JSON", "[hf_tokenizer]") {
    CHECK_THAT(load_error_text("{\"model\": {"), Catch::Contains("not valid JSON"));
    CHECK_THAT(load_error_text(""), Catch::Contains("not valid JSON"));
    CHECK_THAT(load_error_text("[1, 2]"), Catch::Contains("expected a JSON object"));
    CHECK_THAT(load_error_text("{\"model\": {\"vocab\": {\"\xff\": 0}, \"merges\": []}}"),
               Catch::Contains("not valid JSON"));
}

TEST_CASE("unsupported model types are named", "[hf_tokenizer]") {
    json c = minimal();
    c["model"]["type"] = "WordPiece";
    CHECK_THAT(load_error(c), Catch::Contains("\"WordPiece\" is not supported") &&
                                  Catch::Contains("model.type"));
    c["model"]["type"] = "Unigram";
    CHECK_THAT(load_error(c), Catch::Contains("\"Unigram\" is not supported"));
    // Unigram files written without a type: vocab is a list of [piece, score].
    json unigram = {{"model",
                     {{"vocab", json::array({json::array({"a", -1.0}), json::array({"b", -2.0})})},
                      {"unk_id", 0}}}};
    CHECK_THAT(load_error(unigram), Catch::Contains("Unigram"));
    CHECK_THAT(load_error(json{{"version", "1.0"}}), Catch::Contains("model: missing"));
}

TEST_CASE("broken vocabularies and merges", "[hf_tokenizer]") {
    json c = minimal();
    c["model"].erase("vocab");
    CHECK_THAT(load_error(c), Catch::Contains("model.vocab: missing"));

    c = minimal();
    c["model"]["vocab"] = json::array({"a", "b"});
    CHECK_THAT(load_error(c), Catch::Contains("model.vocab: expected an object"));

    c = minimal();
    c["model"]["vocab"]["c"] = "three";
    CHECK_THAT(load_error(c), Catch::Contains("expected an integer id"));

    c = minimal();
    c["model"]["vocab"]["c"] = -4;
    CHECK_THAT(load_error(c), Catch::Contains("out of range"));

    c = minimal();
    c["model"]["vocab"]["c"] = 1;
    CHECK_THAT(load_error(c), Catch::Contains("id 1 is given to both \"b\" and \"c\""));

    c = minimal();
    c["model"]["merges"] = {"a b", "a zz"};
    CHECK_THAT(load_error(c), Catch::Contains("model.merges[1]") &&
                                  Catch::Contains("\"zz\", which is not in the vocabulary"));

    c = minimal();
    c["model"]["merges"] = {"b a"};
    CHECK_THAT(load_error(c), Catch::Contains("merged piece \"ba\" is not in the vocabulary"));

    c = minimal();
    c["model"]["merges"] = {"ab"};
    CHECK_THAT(load_error(c), Catch::Contains("not two pieces separated by one space"));

    c = minimal();
    c["model"]["merges"] = json::array({json::array({"a"})});
    CHECK_THAT(load_error(c), Catch::Contains("model.merges[0]"));

    c = minimal();
    c["model"].erase("merges");
    CHECK_THAT(load_error(c), Catch::Contains("model.merges: missing"));

    c = minimal();
    c["model"]["unk_token"] = "<unk>";
    CHECK_THAT(load_error(c), Catch::Contains("model.unk_token") &&
                                  Catch::Contains("not in the vocabulary"));
}

TEST_CASE("unsupported or malformed pipeline steps", "[hf_tokenizer]") {
    json c = minimal();
    c["pre_tokenizer"] = {{"type", "BertPreTokenizer"}};
    CHECK_THAT(load_error(c), Catch::Contains("unsupported pre-tokenizer \"BertPreTokenizer\""));

    c = minimal();
    c["normalizer"] = {{"type", "Sequence"}, {"normalizers", {{{"type", "NFKC"}}}}};
    CHECK_THAT(load_error(c), Catch::Contains("normalizer.normalizers[0].type") &&
                                  Catch::Contains("unsupported normalizer \"NFKC\""));

    c = minimal();
    c["decoder"] = {{"type", "WordPiece"}};
    CHECK_THAT(load_error(c), Catch::Contains("unsupported decoder \"WordPiece\""));

    c = minimal();
    c["pre_tokenizer"] = {{"type", "Split"},
                          {"pattern", {{"Regex", "(unclosed"}}},
                          {"behavior", "Isolated"},
                          {"invert", false}};
    CHECK_THAT(load_error(c), Catch::Contains("pre_tokenizer.pattern.Regex") &&
                                  Catch::Contains("invalid regular expression"));

    c["pre_tokenizer"]["pattern"] = {{"Regex", "\\s+"}};
    c["pre_tokenizer"]["behavior"] = "Sideways";
    CHECK_THAT(load_error(c), Catch::Contains("unknown split behavior \"Sideways\""));

    c = minimal();
    c["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", "ab"}};
    CHECK_THAT(load_error(c), Catch::Contains("expected exactly one character"));

    c = minimal();
    c["pre_tokenizer"] = {{"type", "Metaspace"},
                          {"replacement", "_"},
                          {"add_prefix_space", false},
                          {"prepend_scheme", "always"}};
    CHECK_THAT(load_error(c), Catch::Contains("prepend_scheme"));

    c = minimal();
    c["added_tokens"] = {{{"id", 7}}};
    CHECK_THAT(load_error(c), Catch::Contains("added_tokens[0].content: missing"));
}

TEST_CASE("tokenizer.json paths: file, directory, missing", "[hf_tokenizer]") {
    // The shared GPT-2 folder holds a tokenizer.json: a directory path works.
    CHECK(load_hf_tokenizer(shared_dir() + "/tokenizers/gpt2")->vocab_size() == 50257);
    TempDir tmp;
    CHECK_THROWS_AS(load_hf_tokenizer(tmp.file("nope.json")), IoError);
    try {
        load_hf_tokenizer(tmp.path());
        FAIL("expected a FormatError");
    } catch (const FormatError& e) {
        CHECK_THAT(e.what(), Catch::Contains("no tokenizer.json"));
    }
}

TEST_CASE("tokenizer_config.json beside tokenizer.json names BOS and EOS", "[hf_tokenizer]") {
    TempDir tmp;
    json c = minimal();
    c["added_tokens"] = {{{"id", 3}, {"content", "<|endoftext|>"}, {"special", true}},
                         {{"id", 4}, {"content", "<|im_end|>"}, {"special", true}}};
    write_file(tmp.file("tokenizer.json"), c.dump());
    // Without a config: the well-known name.
    auto tok = load_hf_tokenizer(tmp.path());
    CHECK(tok->bos_id() == 3);
    CHECK(tok->eos_id() == 3);
    // Qwen2-style config: no BOS, EOS <|im_end|>.
    write_file(tmp.file("tokenizer_config.json"),
               json{{"bos_token", nullptr}, {"eos_token", "<|im_end|>"}}.dump());
    tok = load_hf_tokenizer(tmp.path());
    CHECK(tok->bos_id() == -1);
    CHECK(tok->eos_id() == 4);
    CHECK(tok->encode("ab", true).ids == std::vector<int32_t>{2});
    // Object form {"content": ...}.
    write_file(tmp.file("tokenizer_config.json"),
               json{{"bos_token", {{"content", "<|im_end|>"}}}}.dump());
    CHECK(load_hf_tokenizer(tmp.path())->bos_id() == 4);
    write_file(tmp.file("tokenizer_config.json"), "{oops");
    CHECK_THROWS_AS(load_hf_tokenizer(tmp.path()), FormatError);
}
