// One name for an attention head everywhere: `L{layer}H{head}` in every output (CLI, reports,
// GUI, HDF5 attributes); `L1H4`, `1.4` and `1:4` accepted wherever heads are read. Torch-free.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace headscope {

struct HeadRef {
    int layer = 0;
    int head = 0;
    bool operator==(const HeadRef& o) const { return layer == o.layer && head == o.head; }
    bool operator!=(const HeadRef& o) const { return !(*this == o); }
    bool operator<(const HeadRef& o) const { return layer != o.layer ? layer < o.layer : head < o.head; }
};

// "L1H4".
std::string head_label(int layer, int head);
inline std::string head_label(const HeadRef& h) { return head_label(h.layer, h.head); }
std::string to_string(const HeadRef& h);  // same as head_label

// One head: "L1H4" (case-insensitive), "1.4" or "1:4", surrounding spaces ignored. Throws
// UsageError showing the accepted forms.
HeadRef parse_head(std::string_view text);
// A comma-separated list of heads ("L1H4, 2.0,3:1"); blank -> empty list. Throws UsageError.
std::vector<HeadRef> parse_heads(std::string_view text);

}  // namespace headscope
