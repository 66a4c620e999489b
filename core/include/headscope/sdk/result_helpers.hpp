// Small helpers for building Result items, shared by the built-in analyses and open to plugins.
// Torch-free.
#pragma once

#include <cstdint>
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

// A token as a single-line, valid-UTF-8 label: its text with control characters escaped (\n, \t,
// \r, \xNN), the raw piece when the text is empty or a partial UTF-8 sequence (a byte token),
// "#id" when neither is valid UTF-8 or id is outside the vocabulary.
std::string token_display_text(const Tokenizer& tokenizer, int64_t id);

}  // namespace headscope
