// Finding what a result says about one head, whatever the analysis: Spectrum items whose header
// carries the head (ItemHeader::head), rows of head-indexed Matrix items (a row axis naming heads, row
// labels read by parse_head), and rows of Tables with layer/head columns (or a head column such
// as "L1H4"). No head is guessed from keys or titles. The circuit and sinks views use these to
// show the selected head's slice of any result.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "headscope/sdk/result.hpp"

namespace headscope::gui {

// True when the whole label is the head in one of the forms parse_head reads (L1H4, 1.4, 1:4).
bool is_head_label(const std::string& label, int layer, int head);

// The series of every Spectrum item naming the head; when there is none, one curve per
// head-indexed Matrix (its row for the head); merged into one Spectrum, nullopt when none.
std::optional<Spectrum> head_spectrum(const Result& result, int layer, int head);

// Tables restricted to the head's rows (Tables without head columns whose header carries the head
// are returned whole); empty tables are dropped.
std::vector<Table> head_tables(const Result& result, int layer, int head);

// The column index of `name` (case-insensitive), or -1.
int column_index(const Table& table, const std::string& name);

// Positions listed by a Table with a "position" column (rows of prompt 0 when it has a
// "prompt" column).
std::vector<int> listed_positions(const Table& table);

}  // namespace headscope::gui
