// TrainedBpe -> Hugging Face tokenizer.json / tokenizer_config.json.
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "headscope/bpe_trainer.hpp"
#include "headscope/error.hpp"

namespace headscope {

namespace {

using nlohmann::ordered_json;

void write_text_file(const std::filesystem::path& path, const std::string& text) {
    const std::filesystem::path tmp = path.string() + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) throw IoError(fmt::format("{}: cannot open for writing", tmp.string()));
        out << text;
        out.flush();
        if (!out) throw IoError(fmt::format("{}: write failed", tmp.string()));
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) throw IoError(fmt::format("{}: cannot rename into place: {}", path.string(), ec.message()));
}

ordered_json byte_level(bool add_prefix_space) {
    return ordered_json{{"type", "ByteLevel"},
                        {"add_prefix_space", add_prefix_space},
                        {"trim_offsets", true},
                        {"use_regex", true}};
}

}  // namespace

std::string to_hf_tokenizer_json(const TrainedBpe& bpe) {
    ordered_json root;
    root["version"] = "1.0";
    root["truncation"] = nullptr;
    root["padding"] = nullptr;
    ordered_json added = ordered_json::array();
    for (size_t i = 0; i < bpe.special_tokens.size(); ++i) {
        added.push_back(ordered_json{{"id", i},
                                     {"content", bpe.special_tokens[i]},
                                     {"single_word", false},
                                     {"lstrip", false},
                                     {"rstrip", false},
                                     {"normalized", false},
                                     {"special", true}});
    }
    root["added_tokens"] = added;
    root["normalizer"] = nullptr;
    root["pre_tokenizer"] = byte_level(false);
    if (!bpe.special_tokens.empty()) {
        const std::string& bos = bpe.special_tokens.front();
        ordered_json special{{"SpecialToken", {{"id", bos}, {"type_id", 0}}}};
        ordered_json a{{"Sequence", {{"id", "A"}, {"type_id", 0}}}};
        ordered_json b{{"Sequence", {{"id", "B"}, {"type_id", 1}}}};
        root["post_processor"] = ordered_json{
            {"type", "TemplateProcessing"},
            {"single", ordered_json::array({special, a})},
            {"pair", ordered_json::array({special, a, b})},
            {"special_tokens", {{bos, {{"id", bos}, {"ids", ordered_json::array({0})}, {"tokens", ordered_json::array({bos})}}}}}};
    } else {
        root["post_processor"] = nullptr;
    }
    root["decoder"] = byte_level(true);
    ordered_json vocab = ordered_json::object();
    for (size_t i = 0; i < bpe.vocab.size(); ++i) vocab[bpe.vocab[i]] = i;
    ordered_json merges = ordered_json::array();
    for (const auto& [l, r] : bpe.merges) merges.push_back(l + " " + r);
    root["model"] = ordered_json{{"type", "BPE"},
                                 {"dropout", nullptr},
                                 {"unk_token", nullptr},
                                 {"continuing_subword_prefix", ""},
                                 {"end_of_word_suffix", ""},
                                 {"fuse_unk", false},
                                 {"byte_fallback", false},
                                 {"ignore_merges", false},
                                 {"vocab", vocab},
                                 {"merges", merges}};
    return root.dump(1) + "\n";
}

void write_hf_tokenizer(const std::string& directory, const TrainedBpe& bpe) {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::create_directories(directory, ec);
    if (ec) throw IoError(fmt::format("{}: cannot create directory: {}", directory, ec.message()));
    write_text_file(fs::path(directory) / "tokenizer.json", to_hf_tokenizer_json(bpe));
    ordered_json config;
    config["tokenizer_class"] = "PreTrainedTokenizerFast";
    if (!bpe.special_tokens.empty()) {
        config["bos_token"] = bpe.special_tokens.front();
        config["eos_token"] = bpe.special_tokens.front();
    }
    config["add_bos_token"] = true;
    config["clean_up_tokenization_spaces"] = false;
    config["model_max_length"] = 1000000;
    write_text_file(fs::path(directory) / "tokenizer_config.json", config.dump(2) + "\n");
}

}  // namespace headscope
