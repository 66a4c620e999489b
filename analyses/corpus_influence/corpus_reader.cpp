#include "corpus_influence/corpus_reader.hpp"

#include <algorithm>
#include <filesystem>
#include <iterator>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "headscope/error.hpp"

namespace headscope::influence {

namespace fs = std::filesystem;

CorpusReader::CorpusReader(const std::string& path) : path_(path) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
        directory_ = true;
        for (fs::recursive_directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
            if (!it->is_regular_file(ec) || it->path().extension() != ".txt") continue;
            files_.push_back(fs::relative(it->path(), path).generic_string());
            total_bytes_ += it->file_size(ec);
        }
        if (ec) throw IoError(fmt::format("{}: cannot list the corpus directory: {}", path, ec.message()));
        if (files_.empty()) throw IoError(fmt::format("{}: the corpus directory holds no .txt files", path));
        std::sort(files_.begin(), files_.end());
        return;
    }
    in_.open(path, std::ios::binary);
    if (!in_) throw IoError(fmt::format("{}: cannot open the corpus (a JSONL file with \"text\" or a directory of .txt files)", path));
    total_bytes_ = fs::file_size(path, ec);
    if (ec) total_bytes_ = 0;
}

bool CorpusReader::next(CorpusDocument& doc) {
    if (directory_) {
        if (next_file_ >= files_.size()) return false;
        const std::string rel = files_[next_file_++];
        const fs::path file = fs::path(path_) / rel;
        std::ifstream f(file, std::ios::binary);
        if (!f) throw IoError(fmt::format("{}: cannot read the corpus document", file.string()));
        doc.text.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
        doc.id = rel;
        doc.index = index_++;
        read_bytes_ += doc.text.size();
        return true;
    }
    std::string line;
    while (std::getline(in_, line)) {
        ++line_;
        read_bytes_ += line.size() + 1;
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        nlohmann::json j;
        try {
            j = nlohmann::json::parse(line);
        } catch (const nlohmann::json::exception& e) {
            throw FormatError(path_, fmt::format("line {}: not JSON ({})", line_, e.what()));
        }
        if (!j.is_object() || !j.contains("text") || !j["text"].is_string())
            throw FormatError(path_, fmt::format("line {}: expected an object with a \"text\" string", line_));
        doc.text = j["text"].get<std::string>();
        if (j.contains("id") && j["id"].is_string())
            doc.id = j["id"].get<std::string>();
        else if (j.contains("id") && j["id"].is_number_integer())
            doc.id = std::to_string(j["id"].get<int64_t>());
        else
            doc.id = fmt::format("line {}", line_);
        doc.index = index_++;
        return true;
    }
    if (in_.bad()) throw IoError(fmt::format("{}: read error after line {}", path_, line_));
    return false;
}

double CorpusReader::fraction() const {
    if (total_bytes_ == 0) return 0.0;
    return std::min(1.0, static_cast<double>(read_bytes_) / static_cast<double>(total_bytes_));
}

}  // namespace headscope::influence
