// Streaming a text corpus one document at a time, in a fixed order, with bounded memory: a JSONL
// file with a "text" string per line (optional "id"), or a directory of .txt files (each file one
// document, in sorted path order, searched recursively). Torch-free.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

namespace headscope::influence {

struct CorpusDocument {
    int64_t index = 0;  // 0-based position in the corpus
    std::string id;     // the line's "id", the line number ("line 7") or the file's relative path
    std::string text;
};

class CorpusReader {
public:
    // Throws IoError when `path` is neither a readable file nor a directory holding .txt files.
    explicit CorpusReader(const std::string& path);
    // The next document; false at the end. Throws FormatError naming the file and line for a line
    // that is not a JSON object with a "text" string.
    bool next(CorpusDocument& doc);
    // Share of the corpus' bytes read so far, in [0, 1].
    double fraction() const;

private:
    std::string path_;
    bool directory_ = false;
    std::vector<std::string> files_;  // directory mode: relative paths, sorted
    size_t next_file_ = 0;
    std::ifstream in_;                // JSONL mode
    size_t line_ = 0;
    uint64_t total_bytes_ = 0, read_bytes_ = 0;
    int64_t index_ = 0;
};

}  // namespace headscope::influence
