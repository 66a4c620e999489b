// Training documents of the tiny-world corpus and the single-instance generators shared with
// the prompt sets.
#include <stdexcept>

#include <fmt/format.h>

#include "headscope/tutorial_tasks.hpp"

namespace headscope::tutorial {

namespace {

const std::vector<std::string> kPlaces{"store", "garden", "park", "school", "office", "market", "beach", "station"};
const std::vector<std::string> kObjects{"drink", "book", "ball", "ring", "gift", "letter", "key", "hat", "lamp", "cake"};
const std::vector<std::string> kAdjectives{"big", "small", "red", "old", "happy", "quiet"};
const std::vector<std::string> kAnimals{"dog", "cat", "bird", "fox", "horse"};
const std::vector<std::string> kVerbs{"ran", "sat", "jumped", "slept"};
const std::vector<std::string> kSpots{"river", "tree", "house", "hill", "road"};

struct IoiTemplate {
    const char* text;  // {0} = first name, {1} = second name, {2} = subject, {3} = place, {4} = object
};
const IoiTemplate kIoiTemplates[] = {
    {"When {0} and {1} went to the {3}, {2} gave a {4} to"},
    {"When {0} and {1} got a {4} at the {3}, {2} decided to give it to"},
    {"After {0} and {1} went to the {3}, {2} gave a {4} to"},
    {"Then, {0} and {1} had a long argument, and afterwards {2} said to"},
    {"While {0} and {1} were working at the {3}, {2} gave a {4} to"},
    {"Friends {0} and {1} found a {4} at the {3}. {2} gave it to"},
};

struct LaundryHeaders {
    const char* list;
    const char* bought;
    const char* need;
};
const LaundryHeaders kLaundryHeaders[] = {
    {"Buy", "Already bought", "Still need"},
    {"Shopping list", "Got", "Missing"},
    {"To get", "Already bought", "Still need"},
};

std::string join(const std::vector<std::string>& words, const char* sep) {
    std::string out;
    for (size_t i = 0; i < words.size(); ++i) {
        if (i) out += sep;
        out += words[i];
    }
    return out;
}

std::string capital_fact(SeededRng& rng, const Country& c) {
    switch (rng.below(3)) {
        case 0: return fmt::format("The capital of {} is {}.", c.name, c.capital);
        case 1: return fmt::format("{} is the capital of {}.", c.capital, c.name);
        default: return fmt::format("{} has its capital in {}.", c.name, c.capital);
    }
}

std::string capitals_document(SeededRng& rng) {
    const auto& all = countries();
    const Country& c = rng.pick(all);
    const double kind = rng.uniform();
    if (kind < 0.55) {  // one to three memorised facts
        std::string doc = capital_fact(rng, c);
        const int extra = rng.range(0, 2);
        for (int i = 0; i < extra; ++i) doc += " " + capital_fact(rng, rng.pick(all));
        return doc;
    }
    if (kind < 0.85) {  // an in-context override, restated
        std::string city;
        do {
            city = rng.chance(0.5) ? rng.pick(other_cities()) : rng.pick(all).capital;
        } while (city == c.capital || counterfactual_held_out(c.name, city));
        return fmt::format("The capital of {0} is {1}. The capital of {0} is {1}.", c.name, city);
    }
    // the true fact, restated
    return fmt::format("The capital of {0} is {1}. The capital of {0} is {1}.", c.name, c.capital);
}

std::string repeats_document(SeededRng& rng) {
    static const std::vector<std::string> words = lexicon();
    const size_t length = static_cast<size_t>(rng.range(4, 16));
    std::vector<std::string> seg;
    for (size_t i : rng.distinct(words.size(), length)) seg.push_back(" " + words[i]);
    std::string once;
    for (const auto& w : seg) once += w;
    std::string doc = once + once;
    if (rng.chance(0.3)) doc += once;
    return doc;
}

}  // namespace

namespace gen {

int ioi_template_count() { return static_cast<int>(std::size(kIoiTemplates)); }

IoiInstance ioi(SeededRng& rng, const std::string& a, const std::string& b, bool subject_is_b, int template_index) {
    if (template_index < 0 || template_index >= ioi_template_count())
        throw std::out_of_range("ioi template index");
    const std::string& place = rng.pick(kPlaces);
    const std::string& object = rng.pick(kObjects);
    const std::string& subject = subject_is_b ? b : a;
    const std::string& io = subject_is_b ? a : b;
    const char* t = kIoiTemplates[template_index].text;
    IoiInstance out;
    out.prompt = fmt::format(t, a, b, subject, place, object);
    out.corrupted = fmt::format(t, a, b, io, place, object);
    out.answer = " " + io;
    out.alternative = " " + subject;
    out.template_id = std::to_string(template_index);
    return out;
}

LaundryInstance laundry(SeededRng& rng, const std::vector<std::string>& listed, size_t missing_index) {
    if (listed.size() < 2 || missing_index >= listed.size()) throw std::out_of_range("laundry list");
    const LaundryHeaders& h = kLaundryHeaders[rng.below(std::size(kLaundryHeaders))];
    std::vector<std::string> bought;
    for (size_t i = 0; i < listed.size(); ++i)
        if (i != missing_index) bought.push_back(listed[i]);
    rng.shuffle(bought);
    // The corrupted prompt buys the missing item instead of one bought item (the alternative).
    const size_t swap_at = static_cast<size_t>(rng.below(bought.size()));
    std::vector<std::string> corrupted = bought;
    corrupted[swap_at] = listed[missing_index];
    const std::string head = fmt::format("{}: {}. {}: ", h.list, join(listed, ", "), h.bought);
    LaundryInstance out;
    out.prompt = head + join(bought, ", ") + ". " + h.need + ":";
    out.corrupted = head + join(corrupted, ", ") + ". " + h.need + ":";
    out.answer = " " + listed[missing_index];
    out.alternative = " " + bought[swap_at];
    return out;
}

std::string plain_sentence(SeededRng& rng) {
    switch (rng.below(7)) {
        case 0: return fmt::format("{} likes {}.", rng.pick(names()), rng.pick(items()));
        case 1: return fmt::format("{} lives in {}.", rng.pick(names()), rng.pick(countries()).capital);
        case 2:
            return fmt::format("The {} {} {} near the {}.", rng.pick(kAdjectives), rng.pick(kAnimals),
                               rng.pick(kVerbs), rng.pick(kSpots));
        case 3:
            return fmt::format("{} walked to the {} in the {}.", rng.pick(names()), rng.pick(kPlaces),
                               rng.chance(0.5) ? "morning" : "evening");
        case 4:
            return fmt::format("{} saw a {} {} by the {}.", rng.pick(names()), rng.pick(kAdjectives),
                               rng.pick(kAnimals), rng.pick(kSpots));
        case 5: return fmt::format("A {} {} ate some {}.", rng.pick(kAdjectives), rng.pick(kAnimals), rng.pick(items()));
        default:
            return fmt::format("The {} was {}.", rng.chance(0.5) ? "day" : "evening", rng.chance(0.5) ? "warm" : "cold");
    }
}

}  // namespace gen

TinyWorldCorpus::TinyWorldCorpus(uint64_t seed, CorpusMix mix) : rng_(seed), mix_(mix) {}

std::string TinyWorldCorpus::next_document() {
    const double total = mix_.ioi + mix_.laundry + mix_.capitals + mix_.repeats + mix_.plain;
    double r = rng_.uniform() * total;
    if ((r -= mix_.ioi) < 0) {
        last_kind_ = "ioi";
        const auto& n = names();
        std::string a, b;
        do {
            auto pick = rng_.distinct(n.size(), 2);
            a = n[pick[0]];
            b = n[pick[1]];
        } while (ioi_held_out(a, b));
        const bool subject_is_b = rng_.chance(0.5);
        gen::IoiInstance x = gen::ioi(rng_, a, b, subject_is_b, rng_.range(0, gen::ioi_template_count() - 1));
        return x.prompt + x.answer + ".";
    }
    if ((r -= mix_.laundry) < 0) {
        last_kind_ = "laundry_list";
        const auto& all = items();
        std::vector<std::string> listed;
        do {
            listed.clear();
            for (size_t i : rng_.distinct(all.size(), static_cast<size_t>(rng_.range(3, 5)))) listed.push_back(all[i]);
        } while (laundry_held_out(listed));
        gen::LaundryInstance x = gen::laundry(rng_, listed, static_cast<size_t>(rng_.below(listed.size())));
        return x.prompt + x.answer + ".";
    }
    if ((r -= mix_.capitals) < 0) {
        last_kind_ = "capitals";
        return capitals_document(rng_);
    }
    if ((r -= mix_.repeats) < 0) {
        last_kind_ = "repeats";
        return repeats_document(rng_);
    }
    last_kind_ = "plain";
    std::string doc = gen::plain_sentence(rng_);
    const int extra = rng_.range(0, 2);
    for (int i = 0; i < extra; ++i) doc += " " + gen::plain_sentence(rng_);
    return doc;
}

}  // namespace headscope::tutorial
