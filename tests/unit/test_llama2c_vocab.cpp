// llama2.c tokenizer.bin reader: the real tok512.bin against an independent Python parse, and
// damaged copies of it against FormatError.
#include "headscope/error.hpp"
#include "headscope/tokenizer.hpp"
#include "support/test_support.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <sstream>
#include <string>

using namespace headscope;
namespace ht = headscope::test;
using Catch::Matchers::Contains;

namespace {

std::string unhex(const std::string& h) {
    std::string out;
    for (std::size_t i = 0; i + 1 < h.size(); i += 2) out.push_back(static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16)));
    return out;
}

void put_i32(std::string& bytes, std::size_t offset, int32_t v) {
    uint32_t u;
    std::memcpy(&u, &v, 4);
    for (int i = 0; i < 4; ++i) bytes[offset + static_cast<std::size_t>(i)] = static_cast<char>((u >> (8 * i)) & 0xFF);
}

// Byte offset of token `index`'s record (its score) in a llama2.c tokenizer file.
std::size_t record_offset(const std::string& bytes, int index) {
    std::size_t offset = 4;
    for (int i = 0; i < index; ++i) {
        int32_t length;
        std::memcpy(&length, bytes.data() + offset + 4, 4);
        offset += 8 + static_cast<std::size_t>(length);
    }
    return offset;
}

// Reads `bytes` written to a temporary file; returns the FormatError's message ("" if none).
std::string format_error_of(const std::string& bytes, int32_t vocab_size, std::string* path_out = nullptr) {
    ht::TempDir tmp;
    const std::string path = tmp.file("tokenizer.bin");
    ht::write_file(path, bytes);
    if (path_out) *path_out = path;
    try {
        read_llama2c_vocabulary(path, vocab_size);
    } catch (const FormatError& e) {
        CHECK(e.file() == path);
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("llama2c vocab: tok512.bin matches an independent parse", "[tokenizer]") {
    const auto result = ht::run_command({ht::python(), ht::source_dir() + "/tests/tools/spm_dump_vocab.py",
                                         ht::stories_tokenizer(), "512"});
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    const Vocabulary v = read_llama2c_vocabulary(ht::stories_tokenizer(), 512);
    REQUIRE(v.pieces.size() == 512);
    REQUIRE(v.scores.size() == 512);
    CHECK(v.kinds.empty());
    CHECK(!v.uses_space_marker);
    CHECK(v.add_dummy_prefix);
    CHECK(v.unk_id == 0);
    CHECK(v.bos_id == 1);
    CHECK(v.eos_id == 2);

    std::istringstream lines(result.out);
    int max_len = 0;
    lines >> max_len;
    CHECK(max_len == 7);
    for (int i = 0; i < 512; ++i) {
        std::string score_text, piece_hex;
        lines >> score_text >> piece_hex;
        std::string piece = unhex(piece_hex);
        // The export wraps BOS/EOS in newlines; the reader gives them back bare.
        if (i == 1) CHECK(piece == "\n<s>\n");
        if (i == 2) CHECK(piece == "\n</s>\n");
        if (i == 1 || i == 2) piece = piece.substr(1, piece.size() - 2);
        INFO("token " << i);
        CHECK(v.pieces[static_cast<std::size_t>(i)] == piece);
        CHECK(v.scores[static_cast<std::size_t>(i)] == static_cast<float>(std::stod(score_text)));
    }
}

TEST_CASE("llama2c vocab: truncated files are format errors naming the token", "[tokenizer]") {
    const std::string good = ht::read_file(ht::stories_tokenizer());
    REQUIRE(good.size() == 6227);
    const std::size_t last = record_offset(good, 511);
    struct Cut {
        std::size_t size;
        std::string mention;
    };
    const Cut cuts[] = {
        {0, "max_token_length"},
        {2, "max_token_length"},
        {4, "token 0 of 512"},                // no records at all
        {6, "score of token 0 of 512"},       // inside the first score
        {10, "length of token 0 of 512"},     // inside the first length
        {14, "bytes of token 0 of 512"},      // inside "<unk>"
        {record_offset(good, 300) + 6, "length of token 300 of 512"},
        {last + 8, "bytes of token 511 of 512"},
        {good.size() - 1, "token 511 of 512"},
    };
    for (const auto& cut : cuts) {
        INFO("cut at " << cut.size);
        const std::string message = format_error_of(good.substr(0, cut.size), 512);
        CHECK_THAT(message, Contains("truncated"));
        CHECK_THAT(message, Contains(cut.mention));
    }
    // A model vocabulary larger than the file also runs off its end.
    CHECK_THAT(format_error_of(good, 600), Contains("token 512 of 600"));
}

TEST_CASE("llama2c vocab: bad lengths, scores, headers and trailing tokens are format errors", "[tokenizer]") {
    const std::string good = ht::read_file(ht::stories_tokenizer());
    const std::size_t rec5 = record_offset(good, 5);

    std::string bad = good;
    put_i32(bad, rec5 + 4, -1);
    CHECK_THAT(format_error_of(bad, 512), Contains("token 5 of 512 has length -1"));

    bad = good;
    put_i32(bad, rec5 + 4, 0x7FFFFFFF);
    CHECK_THAT(format_error_of(bad, 512), Contains("token 5 of 512 has length 2147483647"));

    bad = good;
    put_i32(bad, rec5 + 4, 0);
    CHECK_THAT(format_error_of(bad, 512), Contains("token 5 of 512 has length 0"));

    bad = good;
    const float nan = std::numeric_limits<float>::quiet_NaN();
    std::memcpy(&bad[rec5], &nan, 4);
    CHECK_THAT(format_error_of(bad, 512), Contains("score of token 5 of 512"));

    bad = good;
    put_i32(bad, 0, -7);
    CHECK_THAT(format_error_of(bad, 512), Contains("max_token_length is -7"));

    // A header max_token_length smaller than the pieces (7 bytes at most in tok512).
    bad = good;
    put_i32(bad, 0, 6);
    CHECK(!format_error_of(bad, 512).empty());

    // tok512 read for a 500-token model: the tokenizer belongs to another model.
    CHECK_THAT(format_error_of(good, 500), Contains("more tokens than the model's vocabulary"));
    CHECK_THAT(format_error_of(good + std::string(3, '\0'), 512), Contains("3 bytes follow"));
}

TEST_CASE("llama2c vocab: usage and I/O errors", "[tokenizer]") {
    CHECK_THROWS_AS(read_llama2c_vocabulary(ht::stories_tokenizer(), 0), UsageError);
    CHECK_THROWS_AS(read_llama2c_vocabulary(ht::stories_tokenizer(), -512), UsageError);
    // llama2.c reserves ids 0..2 (<unk>, <s>, </s>): a smaller vocabulary is refused up front,
    // naming the file, instead of failing later when BOS is added.
    for (const int32_t tiny : {1, 2}) {
        try {
            read_llama2c_vocabulary(ht::stories_tokenizer(), tiny);
            FAIL("vocab_size " << tiny << " was accepted");
        } catch (const UsageError& e) {
            const std::string what = e.what();
            CHECK(what.find(ht::stories_tokenizer()) != std::string::npos);
            CHECK(what.find("too small") != std::string::npos);
        }
    }
    ht::TempDir tmp;
    CHECK_THROWS_AS(read_llama2c_vocabulary(tmp.file("missing.bin"), 512), IoError);
}

TEST_CASE("llama2c vocab: randomly damaged files give a vocabulary or a FormatError", "[tokenizer]") {
    const std::string good = ht::read_file(ht::stories_tokenizer());
    std::mt19937 rng(7);
    ht::TempDir tmp;
    const std::string path = tmp.file("damaged.bin");
    int rejected = 0;
    for (int round = 0; round < 300; ++round) {
        std::string bad = good;
        const int edits = 1 + static_cast<int>(rng() % 4);
        for (int e = 0; e < edits; ++e) bad[rng() % bad.size()] = static_cast<char>(rng() % 256);
        if (round % 3 == 0) bad.resize(rng() % bad.size());
        ht::write_file(path, bad);
        INFO("round " << round);
        try {
            const auto tok = make_sentencepiece_tokenizer(read_llama2c_vocabulary(path, 512));
            const auto enc = tok->encode("Once upon a time, Lily saw a \xF0\x9F\x90\xB6.", true);
            CHECK(!enc.ids.empty());
        } catch (const FormatError&) {
            ++rejected;
        }
    }
    CHECK(rejected > 0);
}
