// The checkpoint of a corpus_influence run: a JSONL file whose first line records what the run
// measures (corpus, heads, token limits, model shape) and whose next lines hold one scored (or
// skipped) document each, in corpus order, appended and flushed as each document finishes. A run
// restarted with the same checkpoint reads the lines back and continues after the last one; a
// line cut short by a kill is dropped. Torch-free.
#pragma once

#include <cstdint>
#include <fstream>
#include <functional>
#include <string>

namespace headscope::influence {

struct DocumentScore {
    int64_t index = 0;
    std::string id;
    int64_t tokens = 0;  // tokens scored (with BOS, after truncation); 0 when skipped
    double loss = 0;         // mean next-token loss, nats
    double masked_loss = 0;  // the same with the heads masked
    bool skipped = false;    // too short to score
    std::string preview;     // the first characters of the text
    double relative_increase() const { return loss > 0 ? (masked_loss - loss) / loss : 0.0; }
};

class InfluenceCheckpoint {
public:
    // Opens (or creates) `path` for a run described by `header` (a JSON object as text). An
    // existing file must start with the same header (UsageError otherwise, saying how to start
    // over); its complete document lines are passed to `on_record` in order and a torn last line
    // is cut off. An empty path keeps nothing (no resume).
    InfluenceCheckpoint(std::string path, const std::string& header,
                        const std::function<void(const DocumentScore&)>& on_record);
    int64_t resumed() const { return resumed_; }  // documents already in the file
    void append(const DocumentScore& score);       // one line, flushed
    const std::string& path() const { return path_; }

private:
    std::string path_;
    std::ofstream out_;
    int64_t resumed_ = 0;
};

}  // namespace headscope::influence
