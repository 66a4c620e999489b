// Results in HDF5: /results/<analysis id>/<item key> (one dataset or group per item, with its
// kind, title, labels and scale as attributes), parameters and provenance as attributes; read
// back into Results without the model, so reports can be re-rendered from the file alone.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "headscope/formatting.hpp"  // utc_timestamp
#include "headscope/sdk/result.hpp"

namespace headscope {

struct Provenance {
    std::string model_path;
    std::string model_sha256;  // of the file (or of config.json + weights for a directory)
    std::string model_format;
    std::string architecture;
    std::map<std::string, std::string> model_facts;  // n_layers, n_heads, d_model, ...
    std::vector<std::string> prompts;
    std::string prompt_source;  // the JSONL file or "--prompt"
    std::string headscope_version;
    std::string created_utc;
    std::string command_line;
};

struct ResultsFile {
    Provenance provenance;
    std::vector<Result> results;
    // The attention patterns the report's head cards draw (head_card_patterns in
    // sdk/analysis_runner.hpp), stored under /findings; empty in files without them.
    std::vector<Matrix> card_patterns;
};

// Atomic (temporary file + rename).
void write_results_file(const std::string& path, const ResultsFile& file);
ResultsFile read_results_file(const std::string& path);  // throws FormatError / IoError

// SHA-256 of a file, or of every regular file of a directory (sorted by name), as hex.
std::string sha256_of_path(const std::string& path);

}  // namespace headscope
