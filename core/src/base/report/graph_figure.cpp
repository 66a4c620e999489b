// Graphs (e.g. head composition): nodes in columns by layer, edges as weighted curves.
#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include <fmt/format.h>

#include "report/figures.hpp"
#include "report/report_text.hpp"
#include "report/text_metrics.hpp"

namespace headscope::report {

namespace {

// Nodes that are not heads (layer -1) go to a column before the first layer, except outputs
// ("logits", "unembed", "output"), which go after the last.
bool is_output_node(const Graph::Node& n) {
    std::string s = n.id + " " + n.label;
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s.find("logit") != std::string::npos || s.find("unembed") != std::string::npos ||
           s.find("output") != std::string::npos;
}

std::string node_name(const Graph::Node& n, size_t index) {
    if (!n.label.empty()) return n.label;
    if (!n.id.empty()) return n.id;
    return fmt::format("node {}", index);
}

}  // namespace

Figure graph_figure(const Graph& g) {
    Figure f;
    f.label = g.title.empty() ? g.key : g.title;
    const size_t n = g.nodes.size();
    if (n == 0) {
        f.width = 200;
        f.height = 20;
        f.ops.push_back(TextOp{0, 14, "(no nodes)", 11});
        return f;
    }
    // Column of each node: -inf (inputs) < layers < +inf (outputs).
    constexpr int kBefore = -1000000, kAfter = 1000000;
    std::vector<int> column_key(n);
    for (size_t i = 0; i < n; ++i) {
        const auto& node = g.nodes[i];
        column_key[i] = node.layer >= 0 ? node.layer : is_output_node(node) ? kAfter : kBefore;
    }
    std::vector<int> keys = column_key;
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    std::map<int, std::vector<size_t>> columns;
    for (size_t i = 0; i < n; ++i) columns[column_key[i]].push_back(i);
    for (auto& [key, members] : columns)
        std::stable_sort(members.begin(), members.end(), [&](size_t a, size_t b) { return g.nodes[a].head < g.nodes[b].head; });

    const double r = 9, row_gap = 34, label_size = 10, top = 30;
    double col_gap = 110;
    size_t tallest = 0;
    for (const auto& [key, members] : columns) tallest = std::max(tallest, members.size());
    for (size_t i = 0; i < n; ++i)
        col_gap = std::max(col_gap, std::min(180.0, text_extent(truncate_text(node_name(g.nodes[i], i), 18), label_size) + 2 * r + 40));
    const double height_nodes = static_cast<double>(tallest) * row_gap;

    std::vector<double> nx(n), ny(n);
    for (size_t c = 0; c < keys.size(); ++c) {
        const auto& members = columns[keys[c]];
        const double offset = (height_nodes - static_cast<double>(members.size()) * row_gap) / 2;
        for (size_t k = 0; k < members.size(); ++k) {
            nx[members[k]] = 20 + static_cast<double>(c) * col_gap;
            ny[members[k]] = top + offset + (static_cast<double>(k) + 0.5) * row_gap;
        }
        const int key = keys[c];
        const std::string header = key == kBefore ? "inputs" : key == kAfter ? "outputs" : fmt::format("layer {}", key);
        f.ops.push_back(TextOp{20 + static_cast<double>(c) * col_gap, 14, header, 11, Anchor::middle, true});
    }

    // The heaviest edges with valid endpoints, drawn lightest first so heavy ones stay on top.
    std::vector<size_t> order;
    for (size_t e = 0; e < g.edges.size(); ++e) {
        const auto& edge = g.edges[e];
        if (edge.from >= 0 && edge.to >= 0 && static_cast<size_t>(edge.from) < n && static_cast<size_t>(edge.to) < n &&
            std::isfinite(edge.weight))
            order.push_back(e);
    }
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return std::fabs(g.edges[a].weight) > std::fabs(g.edges[b].weight); });
    const size_t valid = order.size(), invalid = g.edges.size() - valid;
    const size_t shown = std::min(valid, kMaxGraphEdges);
    order.resize(shown);
    std::reverse(order.begin(), order.end());
    double max_w = 0;
    for (size_t e : order) max_w = std::max(max_w, std::fabs(g.edges[e].weight));
    if (max_w == 0) max_w = 1;
    std::vector<std::string> kinds;
    for (size_t e : order) kinds.push_back(g.edges[e].kind);
    std::sort(kinds.begin(), kinds.end());
    kinds.erase(std::unique(kinds.begin(), kinds.end()), kinds.end());
    auto kind_colour = [&](const std::string& k) {
        return categorical(static_cast<size_t>(std::lower_bound(kinds.begin(), kinds.end(), k) - kinds.begin()));
    };

    for (size_t e : order) {
        const auto& edge = g.edges[e];
        const size_t a = static_cast<size_t>(edge.from), b = static_cast<size_t>(edge.to);
        CurveOp c;
        c.colour = mix(kind_colour(edge.kind), {255, 255, 255}, 0.15);
        c.width = 0.6 + 3.4 * std::fabs(edge.weight) / max_w;
        c.dashed = edge.weight < 0;
        c.tooltip = fmt::format("{} \u2192 {}{}: {}", node_name(g.nodes[a], a), node_name(g.nodes[b], b),
                                edge.kind.empty() ? "" : " (" + edge.kind + ")", format_number(edge.weight, 6));
        if (std::fabs(nx[a] - nx[b]) < 1) {  // same column: bulge to the right
            const double bulge = 30 + 0.25 * std::fabs(ny[b] - ny[a]);
            c.x0 = nx[a] + r, c.y0 = ny[a], c.x1 = nx[a] + bulge, c.y1 = ny[a];
            c.x2 = nx[b] + bulge, c.y2 = ny[b], c.x3 = nx[b] + r, c.y3 = ny[b];
        } else {
            const double dir = nx[b] > nx[a] ? 1 : -1, mid = (nx[b] - nx[a]) / 2;
            c.x0 = nx[a] + dir * r, c.y0 = ny[a], c.x1 = nx[a] + mid, c.y1 = ny[a];
            c.x2 = nx[b] - mid, c.y2 = ny[b], c.x3 = nx[b] - dir * r, c.y3 = ny[b];
        }
        f.ops.push_back(std::move(c));
    }
    for (size_t i = 0; i < n; ++i) {
        const std::string name = node_name(g.nodes[i], i);
        f.ops.push_back(CircleOp{nx[i], ny[i], r, {0xe8, 0xee, 0xf6}, {0x4e, 0x79, 0xa7}, name});
        f.ops.push_back(TextOp{nx[i] + r + 3, ny[i] - r + 1, truncate_text(name, 18), label_size});
    }

    // Legend under the graph.
    double y = top + height_nodes + 16, x = 0;
    for (size_t k = 0; k < kinds.size(); ++k) {
        const std::string name = kinds[k].empty() ? "edge" : truncate_text(kinds[k], 20);
        f.ops.push_back(LineOp{x, y - 3.5, x + 18, y - 3.5, kind_colour(kinds[k]), 2.5});
        f.ops.push_back(TextOp{x + 22, y, name, 10});
        x += 30 + text_extent(name, 10);
    }
    std::string note = fmt::format("line width \u221d |weight| (max {}); dashed = negative", format_number(max_w, 3));
    if (shown < valid) note += fmt::format("; the {} heaviest of {} edges shown", shown, valid);
    if (invalid > 0) note += fmt::format("; {} edge{} with a missing node or weight left out", invalid, invalid == 1 ? "" : "s");
    f.ops.push_back(TextOp{0, y + 15, note, 10, Anchor::start, false, false, {0x55, 0x55, 0x55}});
    f.width = std::max({20 + static_cast<double>(keys.size() - 1) * col_gap + col_gap, x + 8, text_extent(note, 10) + 8});
    f.height = y + 15 + 8;
    return f;
}

}  // namespace headscope::report
