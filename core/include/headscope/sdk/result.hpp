// Result items: what an analysis returns. The CLI, the GUI and the reports render every item
// without knowing which analysis made it. Plain data (no LibTorch), stored in HDF5 under
// /results/<analysis id>/<item key> and read back from there.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "headscope/sdk/head_ref.hpp"

namespace headscope {

// How values should be coloured: sequential (0..max, e.g. a probability), diverging (signed,
// centred on 0, e.g. a logit attribution).
enum class Scale { sequential, diverging };

struct ItemHeader {
    std::string key;          // unique within the result, [A-Za-z0-9_]+ (e.g. "induction_score")
    std::string title;        // for people ("Induction score")
    std::string description;  // one or two sentences: what the number means
    std::optional<HeadRef> head;  // set when the item is about one head (e.g. its pattern)
    // Reference material (e.g. every singular vector): reports put it in their appendix, after
    // the findings and the detail sections. Long tables and the members of a series of items
    // (spectrum_L0H0, spectrum_L0H1, ...) beyond the first two go there anyway.
    bool appendix = false;
};

// One score per head: values[layer * heads + head].
struct HeadGrid : ItemHeader {
    int layers = 0;
    int heads = 0;
    std::vector<double> values;
    Scale scale = Scale::sequential;
    double at(int layer, int head) const { return values[static_cast<size_t>(layer * heads + head)]; }
};

// A labelled 2-D array (e.g. one head's attention pattern: rows = query tokens, cols = keys).
struct Matrix : ItemHeader {
    int rows = 0;
    int cols = 0;
    std::vector<double> values;  // row-major
    std::vector<std::string> row_labels;  // empty or rows long
    std::vector<std::string> col_labels;  // empty or cols long
    std::string row_axis;  // e.g. "query"
    std::string col_axis;  // e.g. "key"
    Scale scale = Scale::sequential;
};

// One or more curves over an index (e.g. a head's QK and OV singular values).
struct Spectrum : ItemHeader {
    std::vector<std::string> series_names;
    std::vector<std::vector<double>> series;
    std::string x_axis = "index";
    std::string y_axis = "value";
    bool log_y = false;
};

using Cell = std::variant<double, int64_t, std::string>;
struct Table : ItemHeader {
    std::vector<std::string> columns;
    std::vector<std::vector<Cell>> rows;
};

// A score per token of a prompt (e.g. attention mass received, logit-lens probability).
struct TokenScores : ItemHeader {
    std::vector<std::string> tokens;
    std::vector<double> scores;
    Scale scale = Scale::sequential;
};

// Heads (or other components) as nodes, weighted edges between them.
struct Graph : ItemHeader {
    struct Node {
        std::string id;     // e.g. "L1H3"
        std::string label;  // for display
        int layer = -1;     // -1 when not a head/layer
        int head = -1;
    };
    struct Edge {
        int from = 0;  // node indices
        int to = 0;
        double weight = 0;
        std::string kind;  // e.g. "Q", "K", "V"
    };
    std::vector<Node> nodes;
    std::vector<Edge> edges;
};

using ResultItem = std::variant<HeadGrid, Matrix, Spectrum, Table, TokenScores, Graph>;

// A head the analysis singles out, and why: the analysis's "top list". Reports open with every
// head of every analysis's top list, its roles and the scores behind them (the Findings page).
struct HeadRole {
    HeadRef head;
    std::string role;   // for people, short: "induction head", "writes the answer (DLA)"
    std::string item;   // key of the head grid the value is read from ("induction_score"); may be empty
    double value = 0;   // the head's value in that grid
};
const ItemHeader& header_of(const ResultItem& item);
const char* kind_name(const ResultItem& item);  // "head_grid", "matrix", "spectrum", ...

struct Result {
    std::string analysis_id;
    std::string analysis_title;
    std::string analysis_version;
    std::map<std::string, std::string> parameters;  // as used (defaults filled in)
    std::vector<std::string> summary;  // short lines for people ("L1H4 induction 0.93 ...")
    // The key result in one or two sentences with numbers, written for a reader of the report
    // ("L1H6 is an induction head (score 0.93) ..."); the first summary line stands in when empty.
    std::string headline;
    std::vector<HeadRole> roles;       // the heads this analysis singles out (result_helpers: add_roles)
    std::vector<ResultItem> items;
    std::string error;  // non-empty when the analysis failed; items may then be empty

    // nullptr when absent.
    const ResultItem* find(const std::string& key) const;
    const HeadGrid* head_grid(const std::string& key) const;
};

}  // namespace headscope
