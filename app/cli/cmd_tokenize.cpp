// headscope tokenize [MODEL] TEXT [--json]   (one positional argument is the text, for the default model)
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <filesystem>

#include "cli_common.hpp"
#include "headscope/error.hpp"

namespace headscope::cli {

namespace {
struct TokenizeOptions {
    ModelOptions model;
    std::string text;
    bool json = false;
    bool no_bos = false;
};

std::string printable(const std::string& s) {
    std::string out;
    for (unsigned char ch : s) {
        if (ch == '\n') out += "\\n";
        else if (ch == '\t') out += "\\t";
        else if (ch < 0x20) out += fmt::format("\\x{:02x}", ch);
        else out += static_cast<char>(ch);
    }
    return out;
}

// A tokenizer.json file, or a directory holding tokenizer.json but no model weights, is
// tokenized without loading any model.
bool is_tokenizer_only(const std::string& path) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (fs::is_regular_file(path, ec)) return fs::path(path).extension() == ".json";
    if (!fs::is_directory(path, ec)) return false;
    return fs::is_regular_file(fs::path(path) / "tokenizer.json", ec) && !fs::exists(fs::path(path) / "config.json", ec);
}

void run_tokenize(const TokenizeOptions& o) {
    std::shared_ptr<const Tokenizer> owned;
    if (is_tokenizer_only(o.model.model)) {
        owned = load_hf_tokenizer(o.model.model);
    } else {
        owned = load_tokenizer_only(o.model);
    }
    const Tokenizer& tok = *owned;
    Encoding enc = tok.encode(o.text, !o.no_bos && tok.bos_id() >= 0);
    std::vector<std::string> pieces;
    for (int32_t id : enc.ids) pieces.push_back(tok.piece(id));
    if (o.json) {
        nlohmann::ordered_json j;
        j["ids"] = enc.ids;
        j["tokens"] = pieces;
        nlohmann::json offsets = nlohmann::json::array();
        for (const auto& [b, e] : enc.offsets) offsets.push_back({b, e});
        j["offsets"] = offsets;
        std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
        return;
    }
    std::cout << fmt::format("{} tokens\n{:>5}  {:>7}  {:<12}  {}\n", enc.ids.size(), "pos", "id", "bytes", "piece");
    for (size_t i = 0; i < enc.ids.size(); ++i) {
        std::cout << fmt::format("{:>5}  {:>7}  {:<12}  {}\n", i, enc.ids[i],
                                 fmt::format("{}..{}", enc.offsets[i].first, enc.offsets[i].second),
                                 printable(pieces[i]));
    }
}
}  // namespace

void register_tokenize(CLI::App& app) {
    auto opts = std::make_shared<TokenizeOptions>();
    CLI::App* cmd = app.add_subcommand("tokenize", "split text into tokens: ids, pieces and byte offsets");
    add_model_options(*cmd, opts->model);
    cmd->get_option("MODEL")->description(
        "a model (llama2.c .bin, .gguf, Hugging Face directory), or just a tokenizer.json file or a directory "
        "holding one");
    auto* text = cmd->add_option("TEXT", opts->text, "text to tokenize");
    cmd->add_flag("--json", opts->json, "print JSON {\"ids\":[...],\"tokens\":[...],\"offsets\":[[begin,end],...]}");
    cmd->add_flag("--no-bos", opts->no_bos, "do not prepend the BOS token");
    auto* model = cmd->get_option("MODEL");
    cmd->callback([opts, text, model] {
        // Positionals fill MODEL first: with only one, it is the text and MODEL is the default.
        if (text->count() == 0) {
            if (model->count() == 0) throw UsageError("tokenize: give the TEXT to tokenize (and optionally a MODEL first)");
            opts->text = opts->model.model;
            opts->model.model.clear();
        }
        run_tokenize(*opts);
    });
}

}  // namespace headscope::cli
