// The word lists and facts of the tutorial world, and the held-out keys.
#include <algorithm>
#include <set>

#include "headscope/tutorial_tasks.hpp"

namespace headscope::tutorial {

const std::vector<std::string>& names() {
    static const std::vector<std::string> v{
        "Mary",  "John",  "Alice", "Bob",   "Sarah", "David", "Emma",  "James", "Anna",  "Peter",
        "Laura", "Tom",   "Kate",  "Paul",  "Lucy",  "Mark",  "Jane",  "Sam",   "Rose",  "Jack",
        "Nina",  "Adam",  "Clara", "Ben",   "Julia", "Leo",   "Eva",   "Max",   "Ruth",  "Oscar",
        "Ida",   "Hugo",  "Mia",   "Ivan",  "Zoe",   "Carl",  "Ella",  "Dan",   "Amy",   "Fred",
    };
    return v;
}

const std::vector<std::string>& items() {
    static const std::vector<std::string> v{
        "eggs",   "rice",    "milk",   "tea",    "bread", "butter", "cheese", "apples", "salt",   "sugar",
        "flour",  "honey",   "beans",  "coffee", "soap",  "onions", "lemons", "pasta",  "yogurt", "carrots",
        "pepper", "oil",     "jam",    "grapes", "corn",  "plums",  "nuts",   "juice",  "soup",   "peas",
    };
    return v;
}

const std::vector<Country>& countries() {
    static const std::vector<Country> v{
        {"Veldra", "Ostmark"},   {"Brenland", "Karvik"}, {"Tessaly", "Morwen"},  {"Quarn", "Dalby"},
        {"Ilvania", "Sorrel"},   {"Myrth", "Pellston"},  {"Ondria", "Greyhaven"}, {"Zantor", "Ulmira"},
        {"Caldera", "Fennick"},  {"Norvik", "Tallow"},   {"Ashmere", "Vantor"},  {"Kelmoor", "Brisa"},
        {"Loria", "Hexley"},     {"Pravia", "Sunmoor"},  {"Rusk", "Amberly"},    {"Sylvar", "Corwick"},
        {"Threnia", "Ludmar"},   {"Umbria", "Rostow"},   {"Wendal", "Yarrow"},   {"Xerath", "Bellmont"},
        {"Yvera", "Calder"},     {"Zorvia", "Dunmore"},  {"Arvon", "Elmstead"},  {"Borea", "Frostby"},
        {"Cindra", "Galeport"},  {"Dravik", "Holloway"}, {"Estra", "Irongate"},  {"Falmor", "Jesper"},
        {"Garnia", "Kestrel"},   {"Hollin", "Lanford"},
    };
    return v;
}

const std::vector<std::string>& other_cities() {
    static const std::vector<std::string> v{"Paris", "Rome", "Berlin", "Madrid", "Tokyo",
                                            "Cairo", "Lima",  "Oslo",   "Vienna", "Dublin"};
    return v;
}

namespace {
// Words of the templates and plain sentences (kept in sync with corpus_generator.cpp).
const std::vector<std::string>& template_words() {
    static const std::vector<std::string> v{
        // ioi
        "When", "and", "went", "to", "the", "gave", "a", "got", "at", "decided", "give", "it", "After",
        "Then", "had", "long", "argument", "afterwards", "said", "While", "were", "working", "Friends",
        "found", "store", "garden", "park", "school", "office", "market", "beach", "station",
        "drink", "book", "ball", "ring", "gift", "letter", "key", "hat", "lamp", "cake",
        // laundry
        "Buy", "Already", "bought", "Still", "need", "Shopping", "list", "Got", "Missing", "To", "get",
        // capitals
        "The", "capital", "of", "is", "has", "its", "in", "city", "largest", "Fact",
        // plain
        "likes", "lives", "walked", "saw", "big", "small", "red", "old", "happy", "quiet", "dog", "cat",
        "bird", "fox", "horse", "ran", "sat", "jumped", "slept", "near", "river", "tree", "house",
        "hill", "road", "day", "morning", "evening", "sun", "rain", "was", "warm", "cold", "A", "Words",
        "ate", "some", "wanted", "for", "on", "by", "over",
    };
    return v;
}
}  // namespace

std::vector<std::string> lexicon() {
    std::vector<std::string> out;
    std::set<std::string> seen;
    auto add = [&](const std::string& w) {
        if (seen.insert(w).second) out.push_back(w);
    };
    for (const auto& w : names()) add(w);
    for (const auto& w : items()) add(w);
    for (const auto& c : countries()) {
        add(c.name);
        add(c.capital);
    }
    for (const auto& w : other_cities()) add(w);
    for (const auto& w : template_words()) add(w);
    return out;
}

bool ioi_held_out(const std::string& a, const std::string& b) {
    const std::string key = "ioi:" + std::min(a, b) + "|" + std::max(a, b);
    return stable_hash(key) % 5 == 0;
}

bool laundry_held_out(std::vector<std::string> listed) {
    std::sort(listed.begin(), listed.end());
    std::string key = "laundry:";
    for (const auto& w : listed) key += w + ",";
    return stable_hash(key) % 6 == 0;
}

bool counterfactual_held_out(const std::string& country, const std::string& city) {
    return stable_hash("capital:" + country + "|" + city) % 4 == 0;
}

}  // namespace headscope::tutorial
