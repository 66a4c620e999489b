#include "headscope/sdk/result.hpp"

namespace headscope {

const ItemHeader& header_of(const ResultItem& item) {
    return std::visit([](const auto& v) -> const ItemHeader& { return v; }, item);
}

const char* kind_name(const ResultItem& item) {
    switch (item.index()) {
        case 0: return "head_grid";
        case 1: return "matrix";
        case 2: return "spectrum";
        case 3: return "table";
        case 4: return "token_scores";
        case 5: return "graph";
    }
    return "unknown";
}

const ResultItem* Result::find(const std::string& key) const {
    for (const auto& item : items)
        if (header_of(item).key == key) return &item;
    return nullptr;
}

const HeadGrid* Result::head_grid(const std::string& key) const {
    const ResultItem* item = find(key);
    return item ? std::get_if<HeadGrid>(item) : nullptr;
}

}  // namespace headscope
