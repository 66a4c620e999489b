// The tutorial corpus and prompt sets: reproducible from a seed, held-out instances never in
// training, and every prompt's answer checked by re-reading its text.
#include <catch2/catch.hpp>

#include <algorithm>
#include <regex>
#include <set>
#include <sstream>

#include "headscope/error.hpp"
#include "headscope/tutorial_tasks.hpp"
#include "support/test_support.hpp"

using namespace headscope;
using namespace headscope::tutorial;

namespace {
std::vector<std::string> words_of(const std::string& text) {
    std::vector<std::string> out;
    std::string cur;
    for (char ch : text) {
        if (std::isalpha(static_cast<unsigned char>(ch))) {
            cur += ch;
        } else if (!cur.empty()) {
            out.push_back(cur);
            cur.clear();
        }
    }
    if (!cur.empty()) out.push_back(cur);
    return out;
}
int count_word(const std::string& text, const std::string& w) {
    auto ws = words_of(text);
    return static_cast<int>(std::count(ws.begin(), ws.end(), w));
}
std::string trim(std::string s) { return s.substr(s.find_first_not_of(' ')); }
std::vector<std::string> split_list(const std::string& s) {
    std::vector<std::string> out;
    std::stringstream ss(s);
    std::string item;
    while (std::getline(ss, item, ',')) out.push_back(trim(item));
    return out;
}
}  // namespace

TEST_CASE("The corpus is reproducible from its seed", "[corpus]") {
    TinyWorldCorpus a(5), b(5), c(6);
    bool differs = false;
    for (int i = 0; i < 200; ++i) {
        std::string x = a.next_document();
        CHECK(x == b.next_document());
        differs |= x != c.next_document();
    }
    CHECK(differs);
}

TEST_CASE("Held-out IOI pairs and laundry lists never occur in training documents", "[corpus]") {
    TinyWorldCorpus corpus(11);
    std::set<std::string> name_set(names().begin(), names().end());
    std::set<std::string> kinds;
    int ioi_docs = 0, laundry_docs = 0;
    const std::regex laundry_re(R"(^[A-Za-z ]+: ([a-z, ]+)\. [A-Za-z ]+: ([a-z, ]+)\. [A-Za-z ]+: ([a-z]+)\.$)");
    for (int i = 0; i < 5000; ++i) {
        const std::string doc = corpus.next_document();
        kinds.insert(corpus.last_kind());
        if (corpus.last_kind() == "ioi") {
            ++ioi_docs;
            std::vector<std::string> found;
            for (const auto& w : words_of(doc))
                if (name_set.count(w) && std::find(found.begin(), found.end(), w) == found.end()) found.push_back(w);
            REQUIRE(found.size() == 2);
            CHECK_FALSE(ioi_held_out(found[0], found[1]));
            // The sentence ends with the indirect object: the name that occurs once before it.
            auto ws = words_of(doc);
            CHECK(count_word(doc, ws.back()) == 2);  // once among the pair, once as the answer
        } else if (corpus.last_kind() == "laundry_list") {
            ++laundry_docs;
            std::smatch m;
            REQUIRE(std::regex_match(doc, m, laundry_re));
            std::vector<std::string> listed = split_list(m[1]), bought = split_list(m[2]);
            CHECK_FALSE(laundry_held_out(listed));
            CHECK(bought.size() + 1 == listed.size());
            CHECK(std::find(bought.begin(), bought.end(), m[3].str()) == bought.end());
            CHECK(std::find(listed.begin(), listed.end(), m[3].str()) != listed.end());
        }
    }
    CHECK(kinds == std::set<std::string>{"ioi", "laundry_list", "capitals", "repeats", "plain"});
    CHECK(ioi_docs > 1000);
    CHECK(laundry_docs > 1000);
}

TEST_CASE("IOI prompts: the answer is the name not repeated, the corrupted prompt swaps it", "[corpus]") {
    auto prompts = make_task_prompts("ioi", 3, 150);
    REQUIRE(prompts.size() == 150);
    for (const auto& p : prompts) {
        const std::string io = trim(p.answer), s = trim(p.alternative);
        CHECK(count_word(p.prompt, io) == 1);
        CHECK(count_word(p.prompt, s) == 2);
        CHECK(ioi_held_out(io, s));
        CHECK(count_word(p.corrupted_prompt, io) == 2);
        CHECK(count_word(p.corrupted_prompt, s) == 1);
        CHECK(words_of(p.corrupted_prompt).size() == words_of(p.prompt).size());
    }
}

TEST_CASE("Laundry prompts: the answer is the listed item not bought", "[corpus]") {
    const std::regex re(R"(^[A-Za-z ]+: ([a-z, ]+)\. [A-Za-z ]+: ([a-z, ]+)\. [A-Za-z ]+:$)");
    for (const auto& p : make_task_prompts("laundry_list", 3, 120)) {
        std::smatch m, mc;
        REQUIRE(std::regex_match(p.prompt, m, re));
        REQUIRE(std::regex_match(p.corrupted_prompt, mc, re));
        auto listed = split_list(m[1]), bought = split_list(m[2]), bought_c = split_list(mc[2]);
        CHECK(laundry_held_out(listed));
        auto missing_from = [&](const std::vector<std::string>& b) {
            std::vector<std::string> out;
            for (const auto& x : listed)
                if (std::find(b.begin(), b.end(), x) == b.end()) out.push_back(x);
            return out;
        };
        CHECK(missing_from(bought) == std::vector<std::string>{trim(p.answer)});
        CHECK(missing_from(bought_c) == std::vector<std::string>{trim(p.alternative)});
        CHECK(bought_c.size() == bought.size());
    }
}

TEST_CASE("Capital prompts name the memorised capital; overrides are held out", "[corpus]") {
    std::map<std::string, std::string> capital_of;
    for (const auto& c : countries()) capital_of[c.name] = c.capital;
    auto mem = make_task_prompts("capitals", 3, 200);
    CHECK(mem.size() == 2 * countries().size());
    for (const auto& p : mem) {
        std::string country;
        for (const auto& w : words_of(p.prompt))
            if (capital_of.count(w)) country = w;
        CHECK(" " + capital_of.at(country) == p.answer);
        CHECK(p.alternative != p.answer);
    }
    for (const auto& p : make_task_prompts("capitals_counterfactual", 3, 100)) {
        auto ws = words_of(p.prompt);
        // "The capital of C is X. The capital of C is"
        REQUIRE(ws.size() == 11);
        CHECK(" " + ws[5] == p.answer);
        CHECK(ws[5] != capital_of.at(ws[3]));
        CHECK(" " + capital_of.at(ws[3]) == p.alternative);
        CHECK(counterfactual_held_out(ws[3], ws[5]));
        CHECK(words_of(p.corrupted_prompt)[5] == capital_of.at(ws[3]));
    }
}

TEST_CASE("Induction prompts: the answer follows the earlier occurrence of the last word", "[corpus]") {
    for (const auto& p : make_task_prompts("induction", 3, 100)) {
        auto ws = words_of(p.prompt);
        const std::string last = ws.back();
        auto first = std::find(ws.begin(), ws.end(), last);
        REQUIRE(first + 1 < ws.end() - 1);
        CHECK(" " + *(first + 1) == p.answer);
        auto wc = words_of(p.corrupted_prompt);
        REQUIRE(wc.size() == ws.size());
        auto first_c = std::find(wc.begin(), wc.end(), last);
        CHECK(" " + *(first_c + 1) == p.alternative);
    }
}

TEST_CASE("Prompt files round-trip through JSONL and bad lines are reported", "[corpus]") {
    headscope::test::TempDir dir;
    auto prompts = make_task_prompts("ioi", 1, 5);
    write_prompts_jsonl(dir.file("ioi.jsonl"), prompts);
    auto back = read_prompts_jsonl(dir.file("ioi.jsonl"));
    REQUIRE(back.size() == 5);
    CHECK(back[2].prompt == prompts[2].prompt);
    CHECK(back[2].answer == prompts[2].answer);
    CHECK(back[2].fields == prompts[2].fields);
    headscope::test::write_file(dir.file("bad.jsonl"), "{\"task\":\"x\",\"prompt\":\"a\",\"answer\":\" b\"}\n{\"task\":1}\n");
    CHECK_THROWS_WITH(read_prompts_jsonl(dir.file("bad.jsonl")), Catch::Contains("line 2"));
    CHECK_THROWS_AS(make_task_prompts("nope", 1, 1), UsageError);
}
