// Small helpers for building Result items, shared by the built-in analyses and open to plugins.
// Torch-free.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "headscope/sdk/result.hpp"
#include "headscope/tokenizer.hpp"

namespace headscope {

// A [layers, heads] grid item in one call.
inline HeadGrid make_head_grid(std::string key, std::string title, std::string description, int layers, int heads,
                               std::vector<double> values, Scale scale = Scale::sequential) {
    HeadGrid g;
    g.key = std::move(key);
    g.title = std::move(title);
    g.description = std::move(description);
    g.layers = layers;
    g.heads = heads;
    g.values = std::move(values);
    g.scale = scale;
    return g;
}

// A head and its score in a grid.
struct RankedHead {
    HeadRef head;
    double value = 0;
};
// How to rank a grid's heads: highest value first, lowest first, or largest |value| first.
enum class HeadOrder { highest, lowest, magnitude };

// The `count` best heads of values[layer * heads + head] in `order`; NaN and infinite cells are left out;
// ties keep the lower layer/head first.
std::vector<RankedHead> top_heads(const std::vector<double>& values, int heads, size_t count,
                                  HeadOrder order = HeadOrder::highest);
inline std::vector<RankedHead> top_heads(const HeadGrid& grid, size_t count, HeadOrder order = HeadOrder::highest) {
    return top_heads(grid.values, grid.heads, count, order);
}
// "L1H4 0.912, L0H2 0.871": the heads by head_label, each value with `number_format` (fmt syntax).
std::string top_heads_text(const std::vector<RankedHead>& heads, const std::string& number_format = "{:.3f}");
inline std::string top_heads_text(const HeadGrid& grid, size_t count, HeadOrder order = HeadOrder::highest,
                                  const std::string& number_format = "{:.3f}") {
    return top_heads_text(top_heads(grid, count, order), number_format);
}

// "L2H2 (+0.517), L1H7 (+0.477) and L2H3 (+0.426)": heads with their values for a sentence.
std::string heads_sentence(const std::vector<RankedHead>& heads, const std::string& number_format = "{:.3g}");

// Adds the top `count` heads of `grid` in `order` to r.roles as `role` (their values from the
// grid, r.roles[i].item = grid.key). A head is kept only when its value passes `threshold` in the
// order's direction (highest: value >= threshold; lowest: value <= threshold; magnitude:
// |value| >= threshold) and its magnitude is at least `share_of_top` of the top head's. Returns
// the heads added.
std::vector<RankedHead> add_roles(Result& r, const HeadGrid& grid, const std::string& role, size_t count,
                                  HeadOrder order = HeadOrder::highest, std::optional<double> threshold = std::nullopt,
                                  double share_of_top = 0);

// A token's text as the tokenizer decodes it, or its piece where that text is empty (BOS is
// "<s>" or "<|bos|>", not ""); "#id" when id is outside the vocabulary. Not escaped: it may hold
// newlines (the reports and the GUI draw them as symbols).
std::string token_label_text(const Tokenizer& tokenizer, int64_t id);

// A token as a single-line, valid-UTF-8 label: its text with control characters escaped (\n, \t,
// \r, \xNN), the raw piece when the text is empty or a partial UTF-8 sequence (a byte token),
// "#id" when neither is valid UTF-8 or id is outside the vocabulary.
std::string token_display_text(const Tokenizer& tokenizer, int64_t id);

}  // namespace headscope
