// load_hf_tokenizer: finds tokenizer.json (a file, or a directory holding one), parses it and
// builds the HfTokenizer.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "headscope/error.hpp"
#include "headscope/tokenizer.hpp"
#include "json/json_file.hpp"
#include "tokenizers/hf/hf_tokenizer.hpp"

namespace headscope {

std::unique_ptr<Tokenizer> load_hf_tokenizer(const std::string& path) {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::path file(path);
    if (fs::is_directory(file, ec)) {
        file /= "tokenizer.json";
        if (!fs::exists(file, ec)) {
            throw FormatError(path, "directory holds no tokenizer.json");
        }
    }
    if (!fs::exists(file, ec)) throw IoError(file.string() + ": no such file");
    std::ifstream in(file, std::ios::binary);
    if (!in) throw IoError(file.string() + ": cannot open for reading");
    std::stringstream buffer;
    buffer << in.rdbuf();
    if (in.bad()) throw IoError(file.string() + ": read failed");

    const std::string name = file.string();
    const hf_tok::Json root = json_file::parse(buffer.str(), name);
    const fs::path config = file.parent_path() / "tokenizer_config.json";
    return json_file::guard(name, [&]() -> std::unique_ptr<Tokenizer> {
        return std::make_unique<hf_tok::HfTokenizer>(root, name, config.string());
    });
}

}  // namespace headscope
