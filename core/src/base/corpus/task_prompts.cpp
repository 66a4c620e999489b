// Held-out prompt sets of the tutorial tasks, and their JSONL form.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "headscope/error.hpp"
#include "headscope/tutorial_tasks.hpp"
#include "json/json_file.hpp"

namespace headscope::tutorial {

namespace {

using nlohmann::ordered_json;

std::vector<TaskPrompt> ioi_prompts(SeededRng& rng, int count) {
    const auto& n = names();
    std::vector<TaskPrompt> out;
    while (static_cast<int>(out.size()) < count) {
        auto pick = rng.distinct(n.size(), 2);
        const std::string &a = n[pick[0]], &b = n[pick[1]];
        if (!ioi_held_out(a, b)) continue;
        const bool subject_is_b = rng.chance(0.5);
        gen::IoiInstance x = gen::ioi(rng, a, b, subject_is_b, rng.range(0, gen::ioi_template_count() - 1));
        TaskPrompt p{"ioi", x.prompt, x.answer, x.alternative, x.corrupted, {}};
        p.fields = {{"template", x.template_id}, {"order", subject_is_b ? "ABB" : "ABA"}};
        out.push_back(std::move(p));
    }
    return out;
}

std::vector<TaskPrompt> laundry_prompts(SeededRng& rng, int count) {
    const auto& all = items();
    std::vector<TaskPrompt> out;
    while (static_cast<int>(out.size()) < count) {
        std::vector<std::string> listed;
        for (size_t i : rng.distinct(all.size(), static_cast<size_t>(rng.range(3, 5)))) listed.push_back(all[i]);
        if (!laundry_held_out(listed)) continue;
        gen::LaundryInstance x = gen::laundry(rng, listed, static_cast<size_t>(rng.below(listed.size())));
        TaskPrompt p{"laundry_list", x.prompt, x.answer, x.alternative, x.corrupted, {}};
        p.fields = {{"n_items", std::to_string(listed.size())}};
        out.push_back(std::move(p));
    }
    return out;
}

// Memorised facts: every country in two phrasings (at most 2 x countries prompts).
std::vector<TaskPrompt> capitals_prompts(SeededRng& rng, int count) {
    const auto& all = countries();
    count = std::min(count, static_cast<int>(2 * all.size()));
    std::vector<TaskPrompt> out;
    while (static_cast<int>(out.size()) < count) {
        std::vector<size_t> order = rng.distinct(all.size(), all.size());
        for (size_t i : order) {
            if (static_cast<int>(out.size()) >= count) break;
            const Country& c = all[i];
            const Country& other = all[(i + 1 + rng.below(all.size() - 1)) % all.size()];
            const bool second = (out.size() / all.size()) % 2 == 1;
            const char* t = second ? "{} has its capital in" : "The capital of {} is";
            TaskPrompt p{"capitals", fmt::format(t, c.name), " " + c.capital, " " + other.capital,
                         fmt::format(t, other.name), {}};
            p.fields = {{"country", c.name}};
            out.push_back(std::move(p));
        }
    }
    return out;
}

std::vector<TaskPrompt> counterfactual_prompts(SeededRng& rng, int count) {
    const auto& all = countries();
    std::vector<std::string> cities = other_cities();
    for (const auto& c : all) cities.push_back(c.capital);
    std::vector<TaskPrompt> out;
    while (static_cast<int>(out.size()) < count) {
        const Country& c = rng.pick(all);
        const std::string& city = rng.pick(cities);
        if (city == c.capital || !counterfactual_held_out(c.name, city)) continue;
        const char* t = "The capital of {0} is {1}. The capital of {0} is";
        TaskPrompt p{"capitals_counterfactual", fmt::format(t, c.name, city), " " + city, " " + c.capital,
                     fmt::format(t, c.name, c.capital), {}};
        p.fields = {{"country", c.name}, {"memorised", c.capital}};
        out.push_back(std::move(p));
    }
    return out;
}

// The in-context override split into its context and its query, for context_sensitivity:
// context "The capital of X is C. ", prompt "The capital of X is" (with the context the answer is
// C, without it the memorised capital).
std::vector<TaskPrompt> context_prompts(SeededRng& rng, int count) {
    std::vector<TaskPrompt> out = counterfactual_prompts(rng, count);
    for (TaskPrompt& p : out) {
        const std::string country = p.fields.at(0).second;
        p.task = "capitals_context";
        p.fields.insert(p.fields.begin(), {"context", fmt::format("The capital of {} is{}. ", country, p.answer)});
        p.prompt = fmt::format("The capital of {} is", country);
        p.corrupted_prompt.clear();
    }
    return out;
}

// " w1 ... wL w1 ... wk" -> " w(k+1)"; the corrupted prompt has the alternative at position
// k+1 of the first occurrence, so induction predicts the alternative there.
std::vector<TaskPrompt> induction_prompts(SeededRng& rng, int count) {
    const std::vector<std::string> words = lexicon();
    std::vector<TaskPrompt> out;
    while (static_cast<int>(out.size()) < count) {
        const size_t length = static_cast<size_t>(rng.range(6, 12));
        std::vector<size_t> pick = rng.distinct(words.size(), length + 1);
        const std::string alternative = " " + words[pick[length]];
        std::vector<std::string> seg;
        for (size_t i = 0; i < length; ++i) seg.push_back(" " + words[pick[i]]);
        const size_t k = static_cast<size_t>(rng.range(1, static_cast<int>(length) - 2));
        std::string clean, corrupted;
        for (size_t i = 0; i < length; ++i) {
            clean += seg[i];
            corrupted += i == k + 1 ? alternative : seg[i];
        }
        std::string tail;
        for (size_t i = 0; i <= k; ++i) tail += seg[i];
        TaskPrompt p{"induction", clean + tail, seg[k + 1], alternative, corrupted + tail, {}};
        p.fields = {{"segment_length", std::to_string(length)}, {"repeat_position", std::to_string(k)}};
        out.push_back(std::move(p));
    }
    return out;
}

}  // namespace

const std::vector<std::string>& task_names() {
    static const std::vector<std::string> v{"ioi",       "laundry_list",     "capitals", "capitals_counterfactual",
                                            "induction", "capitals_context"};
    return v;
}

std::vector<TaskPrompt> make_task_prompts(const std::string& task, uint64_t seed, int count) {
    if (count < 0) throw UsageError("a prompt count cannot be negative");
    SeededRng rng(seed ^ stable_hash(task));
    if (task == "ioi") return ioi_prompts(rng, count);
    if (task == "laundry_list") return laundry_prompts(rng, count);
    if (task == "capitals") return capitals_prompts(rng, count);
    if (task == "capitals_counterfactual") return counterfactual_prompts(rng, count);
    if (task == "induction") return induction_prompts(rng, count);
    if (task == "capitals_context") return context_prompts(rng, count);
    throw UsageError(fmt::format("unknown task '{}' (known: ioi, laundry_list, capitals, capitals_counterfactual, "
                                 "induction, capitals_context)",
                                 task));
}

std::string to_json_line(const TaskPrompt& p) {
    ordered_json j;
    j["task"] = p.task;
    j["prompt"] = p.prompt;
    j["answer"] = p.answer;
    j["alternative"] = p.alternative;
    j["corrupted_prompt"] = p.corrupted_prompt;
    for (const auto& [k, v] : p.fields) j[k] = v;
    return j.dump();
}

void write_prompts_jsonl(const std::string& path, const std::vector<TaskPrompt>& prompts) {
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) throw IoError(fmt::format("{}: cannot open for writing", tmp));
        for (const auto& p : prompts) out << to_json_line(p) << "\n";
        out.flush();
        if (!out) throw IoError(fmt::format("{}: write failed", tmp));
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) throw IoError(fmt::format("{}: cannot rename into place", path));
}

std::vector<TaskPrompt> read_prompts_jsonl(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw IoError(fmt::format("{}: cannot open prompt file", path));
    std::vector<TaskPrompt> out;
    std::string line;
    size_t line_no = 0;
    static const std::set<std::string> kCore{"task", "prompt", "answer", "alternative", "corrupted_prompt"};
    while (std::getline(in, line)) {
        ++line_no;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.find_first_not_of(" \t") == std::string::npos) continue;
        const std::string where = fmt::format("line {}", line_no);
        const std::string not_json = where + ": not valid JSON";
        const ordered_json j = json_file::parse<ordered_json>(line, path, not_json.c_str());
        if (!j.is_object()) throw FormatError(path, fmt::format("{}: expected a JSON object", where));
        auto text = [&](const char* key, bool required) -> std::string {
            auto it = j.find(key);
            if (it == j.end()) {
                if (required) throw FormatError(path, fmt::format("{}: missing key \"{}\"", where, key));
                return {};
            }
            if (!it->is_string()) throw FormatError(path, fmt::format("{}: \"{}\" must be a string", where, key));
            return it->get<std::string>();
        };
        TaskPrompt p;
        p.task = text("task", true);
        p.prompt = text("prompt", true);
        p.answer = text("answer", true);
        p.alternative = text("alternative", false);
        p.corrupted_prompt = text("corrupted_prompt", false);
        if (p.answer.empty()) throw FormatError(path, fmt::format("{}: \"answer\" is empty", where));
        for (auto it = j.begin(); it != j.end(); ++it) {
            if (kCore.count(it.key())) continue;
            p.fields.emplace_back(it.key(), it->is_string() ? it->get<std::string>() : it->dump());
        }
        out.push_back(std::move(p));
    }
    if (in.bad()) throw IoError(fmt::format("{}: read failed", path));
    return out;
}

}  // namespace headscope::tutorial
