// The byte-level BPE trainer: merge order on the textbook example, closed vocabularies become
// single tokens, and the written tokenizer.json loads in headscope's HF tokenizer.
#include <catch2/catch.hpp>

#include "headscope/bpe_trainer.hpp"
#include "headscope/tokenizer.hpp"
#include "support/test_support.hpp"

using namespace headscope;

TEST_CASE("BPE merges follow the textbook example aaabdaaabac", "[bpe_trainer]") {
    // Wikipedia's byte pair encoding example: aa -> Z, ab -> Y, ZY -> X.
    BpeTrainer t;
    t.add_piece("aaabdaaabac");
    TrainedBpe bpe = t.train();
    REQUIRE(bpe.merges.size() >= 3);
    CHECK(bpe.merges[0] == std::make_pair(std::string("a"), std::string("a")));
    CHECK(bpe.merges[1] == std::make_pair(std::string("a"), std::string("b")));
    CHECK(bpe.merges[2] == std::make_pair(std::string("aa"), std::string("ab")));
    // Merged until the piece is one token.
    CHECK(bpe.vocab.back() == "aaabdaaabac");
    CHECK(bpe.vocab.front() == "<|bos|>");
    CHECK(bpe.vocab.size() == 1 + 256 + bpe.merges.size());
}

TEST_CASE("BPE pre-tokenizes with the GPT-2 pattern and maps bytes to the GPT-2 alphabet", "[bpe_trainer]") {
    BpeTrainer t;
    t.add_text("When Mary and John went to the store, John gave a drink to Mary.");
    const auto& counts = t.piece_counts();
    // GPT-2 splits: "When", " Mary" x2, " and", " John" x2, ..., "," and "." apart.
    CHECK(counts.at(" Mary") == 2);
    CHECK(counts.at(" John") == 2);
    CHECK(counts.at("When") == 1);
    CHECK(counts.at(",") == 1);
    CHECK(counts.at(".") == 1);
    CHECK(counts.count(" store,") == 0);
    TrainedBpe bpe = t.train();
    // ' ' is 'Ġ' (U+0120) in the byte-level alphabet.
    CHECK(std::find(bpe.vocab.begin(), bpe.vocab.end(), "\xC4\xA0Mary") != bpe.vocab.end());
    // Byte 0x21 '!' stands for itself; byte 0x00 is U+0100.
    CHECK(bpe.vocab[1 + '!'] == "!");
    CHECK(bpe.vocab[1 + 0] == "\xC4\x80");
}

TEST_CASE("max_vocab stops merging", "[bpe_trainer]") {
    BpeTrainer t;
    t.add_text("the theory of the thermal thing");
    BpeTrainerOptions o;
    o.max_vocab = 1 + 256 + 3;
    TrainedBpe bpe = t.train(o);
    CHECK(bpe.merges.size() == 3);
    CHECK(bpe.vocab.size() == o.max_vocab);
}

TEST_CASE("A trained tokenizer.json loads and encodes every corpus word as one token", "[bpe_trainer]") {
    BpeTrainer t;
    const std::string text =
        "Buy: eggs, rice, milk, tea. Already bought: rice, tea, eggs. Still need: milk. "
        "The capital of Veldra is Ostmark. When Mary and John went to the store, John gave a drink to Mary.";
    t.add_text(text);
    TrainedBpe bpe = t.train();
    headscope::test::TempDir dir;
    write_hf_tokenizer(dir.path(), bpe);
    std::unique_ptr<Tokenizer> tok = load_hf_tokenizer(dir.path());
    CHECK(tok->bos_id() == 0);
    CHECK(tok->vocab_size() == static_cast<int32_t>(bpe.vocab.size()));
    for (const char* word : {" Mary", " milk", " Ostmark", " Veldra", "Buy", ":", " eggs"}) {
        Encoding e = tok->encode(word, false);
        INFO(word);
        REQUIRE(e.ids.size() == 1);
        CHECK(tok->token_text(e.ids[0]) == word);
    }
    Encoding all = tok->encode(text, true);
    CHECK(all.ids.front() == 0);
    CHECK(tok->decode(std::vector<int32_t>(all.ids.begin() + 1, all.ids.end())) == text);
    // A word never seen still encodes (byte fallback through the 256 byte tokens).
    Encoding unseen = tok->encode(" zebra", false);
    CHECK(tok->decode(unseen.ids) == " zebra");
    CHECK(unseen.ids.size() > 1);
    // The special token is matched as one token in text.
    Encoding special = tok->encode("<|bos|> Mary", false);
    REQUIRE(special.ids.size() == 2);
    CHECK(special.ids[0] == 0);
}
