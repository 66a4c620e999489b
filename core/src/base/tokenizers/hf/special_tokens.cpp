#include "tokenizers/hf/special_tokens.hpp"

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <vector>

#include "headscope/error.hpp"
#include "json/json_file.hpp"

namespace headscope::hf_tok {
namespace {

using Lookup = std::function<int32_t(std::string_view)>;

// What a source says about one special token: nothing (nullopt), "none" (-1) or an id.
using Answer = std::optional<int32_t>;

std::optional<Json> read_tokenizer_config(const std::string& path) {
    std::error_code ec;
    if (path.empty() || !std::filesystem::is_regular_file(path, ec)) return std::nullopt;
    std::ifstream in(path, std::ios::binary);
    if (!in) throw IoError(path + ": cannot open for reading");
    std::stringstream buffer;
    buffer << in.rdbuf();
    return json_file::parse(buffer.str(), path);
}

Answer from_config(const Json& config, const char* key, const Lookup& lookup) {
    if (!config.is_object()) return std::nullopt;
    const auto it = config.find(key);
    if (it == config.end()) return std::nullopt;
    if (it->is_null()) return -1;
    std::string name;
    if (it->is_string()) {
        name = it->get<std::string>();
    } else if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) {
        name = (*it)["content"].get<std::string>();
    } else {
        return std::nullopt;
    }
    const int32_t id = lookup(name);
    if (id < 0) return std::nullopt;  // names a token the vocabulary lacks: look elsewhere
    return id;
}

// The id of a special token named in a TemplateProcessing template.
int32_t template_token_id(const Json& processor, const std::string& name, const Lookup& lookup) {
    const Json* specials = JsonReader::member(processor, "special_tokens");
    if (specials != nullptr && specials->is_object() && specials->contains(name)) {
        const Json& entry = (*specials)[name];
        const Json* ids = JsonReader::member(entry, "ids");
        if (ids != nullptr && ids->is_array() && !ids->empty() && (*ids)[0].is_number_integer()) {
            return (*ids)[0].get<int32_t>();
        }
    }
    return lookup(name);
}

// The template's pieces as (is_sequence, special token name).
std::vector<std::pair<bool, std::string>> template_pieces(const Json& single) {
    std::vector<std::pair<bool, std::string>> out;
    if (single.is_string()) {  // "<s> $A" form
        std::istringstream words(single.get<std::string>());
        std::string w;
        while (words >> w) {
            if (!w.empty() && w[0] == '$') {
                out.emplace_back(true, "");
            } else {
                const size_t colon = w.rfind(':');
                out.emplace_back(false, colon == std::string::npos ? w : w.substr(0, colon));
            }
        }
    } else if (single.is_array()) {
        for (const Json& item : single) {
            if (!item.is_object()) continue;
            if (item.contains("Sequence")) {
                out.emplace_back(true, "");
            } else if (const Json* st = JsonReader::member(item, "SpecialToken")) {
                const Json* id = JsonReader::member(*st, "id");
                if (id != nullptr && id->is_string()) out.emplace_back(false, id->get<std::string>());
            }
        }
    }
    return out;
}

void from_post_processor(const Json& processor, const Lookup& lookup, Answer& bos, Answer& eos) {
    if (!processor.is_object()) return;
    const Json* type = JsonReader::member(processor, "type");
    if (type == nullptr || !type->is_string()) return;
    const std::string t = type->get<std::string>();
    if (t == "Sequence") {
        if (const Json* list = JsonReader::member(processor, "processors"); list && list->is_array()) {
            for (const Json& p : *list) from_post_processor(p, lookup, bos, eos);
        }
        return;
    }
    if (t == "TemplateProcessing") {
        const Json* single = JsonReader::member(processor, "single");
        if (single == nullptr) return;
        bool seen_sequence = false;
        for (const auto& [is_sequence, name] : template_pieces(*single)) {
            if (is_sequence) {
                seen_sequence = true;
                continue;
            }
            const int32_t id = template_token_id(processor, name, lookup);
            if (id < 0) continue;
            if (!seen_sequence && !bos) bos = id;
            if (seen_sequence && !eos) eos = id;
        }
        return;
    }
    if (t == "RobertaProcessing" || t == "BertProcessing") {
        const auto pair_id = [&](const char* key) -> Answer {
            const Json* v = JsonReader::member(processor, key);
            if (v == nullptr || !v->is_array() || v->size() != 2 || !(*v)[1].is_number_integer()) {
                return std::nullopt;
            }
            return (*v)[1].get<int32_t>();
        };
        if (!bos) bos = pair_id("cls");
        if (!eos) eos = pair_id("sep");
    }
}

Answer from_names(const std::vector<const char*>& names, const Lookup& lookup) {
    for (const char* name : names) {
        if (const int32_t id = lookup(name); id >= 0) return id;
    }
    return std::nullopt;
}

}  // namespace

SpecialTokenIds find_special_token_ids(const Json& root, const Lookup& lookup,
                                       const std::string& tokenizer_config_path) {
    Answer bos, eos;
    if (const std::optional<Json> config = read_tokenizer_config(tokenizer_config_path)) {
        json_file::guard(tokenizer_config_path, [&] {
            bos = from_config(*config, "bos_token", lookup);
            eos = from_config(*config, "eos_token", lookup);
        });
    }
    if (const Json* processor = JsonReader::member(root, "post_processor")) {
        from_post_processor(*processor, lookup, bos, eos);
    }
    if (!bos) bos = from_names({"<s>", "<|begin_of_text|>", "<|endoftext|>", "<bos>"}, lookup);
    if (!eos) eos = from_names({"</s>", "<|end_of_text|>", "<|endoftext|>", "<eos>"}, lookup);
    return {bos.value_or(-1), eos.value_or(-1)};
}

}  // namespace headscope::hf_tok
