#include "corpus_influence/influence_checkpoint.hpp"

#include <filesystem>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "headscope/error.hpp"

namespace headscope::influence {

namespace {

nlohmann::json to_json(const DocumentScore& s) {
    nlohmann::json j{{"doc", s.index}, {"id", s.id}};
    if (s.skipped) {
        j["skipped"] = true;
        return j;
    }
    j["tokens"] = s.tokens;
    j["loss"] = s.loss;
    j["masked_loss"] = s.masked_loss;
    j["preview"] = s.preview;
    return j;
}

// nullopt-like: false when the line is not a complete record.
bool from_json(const std::string& line, DocumentScore& s) {
    nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains("doc") || !j["doc"].is_number_integer() || !j.contains("id")) return false;
    s = DocumentScore{};
    s.index = j["doc"].get<int64_t>();
    s.id = j["id"].get<std::string>();
    s.skipped = j.value("skipped", false);
    if (s.skipped) return true;
    if (!j.contains("loss") || !j.contains("masked_loss") || !j.contains("tokens")) return false;
    s.tokens = j["tokens"].get<int64_t>();
    s.loss = j["loss"].get<double>();
    s.masked_loss = j["masked_loss"].get<double>();
    s.preview = j.value("preview", std::string());
    return true;
}

}  // namespace

InfluenceCheckpoint::InfluenceCheckpoint(std::string path, const std::string& header,
                                         const std::function<void(const DocumentScore&)>& on_record)
    : path_(std::move(path)) {
    if (path_.empty()) return;
    std::error_code ec;
    uint64_t keep = 0;  // bytes of the file that hold complete lines
    if (std::filesystem::exists(path_, ec)) {
        std::ifstream in(path_, std::ios::binary);
        if (!in) throw IoError(fmt::format("{}: cannot read the corpus_influence checkpoint", path_));
        std::string line;
        bool first = true;
        while (std::getline(in, line)) {
            if (in.eof()) break;  // no newline: a line cut short
            if (first) {
                if (line != header)
                    throw UsageError(fmt::format("{}: this checkpoint belongs to a corpus_influence run with other "
                                                 "settings (corpus, heads, token limits or model); delete it to start "
                                                 "over, or choose another --out",
                                                 path_));
                first = false;
            } else {
                DocumentScore s;
                if (!from_json(line, s) || s.index != resumed_) break;  // torn or out of order: redo from here
                on_record(s);
                ++resumed_;
            }
            keep += line.size() + 1;
        }
        in.close();
        std::filesystem::resize_file(path_, keep, ec);
        if (ec) throw IoError(fmt::format("{}: cannot trim the checkpoint: {}", path_, ec.message()));
    }
    out_.open(path_, std::ios::binary | std::ios::app);
    if (!out_) throw IoError(fmt::format("{}: cannot write the corpus_influence checkpoint", path_));
    if (keep == 0) out_ << header << "\n" << std::flush;
}

void InfluenceCheckpoint::append(const DocumentScore& score) {
    if (path_.empty()) return;
    out_ << to_json(score).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n" << std::flush;
    if (!out_) throw IoError(fmt::format("{}: write failed", path_));
}

}  // namespace headscope::influence
