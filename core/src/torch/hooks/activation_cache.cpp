#include "headscope/activation_cache.hpp"

#include "headscope/error.hpp"

namespace headscope {

void ActivationCache::insert(const std::string& name, at::Tensor value) {
    auto it = index_.find(name);
    if (it != index_.end()) {
        values_[it->second] = std::move(value);
        return;
    }
    index_.emplace(name, names_.size());
    names_.push_back(name);
    values_.push_back(std::move(value));
}

const at::Tensor& ActivationCache::at(const std::string& name) const {
    auto it = index_.find(name);
    if (it == index_.end()) {
        std::string held;
        for (size_t i = 0; i < names_.size() && i < 8; ++i) held += (i ? ", " : "") + names_[i];
        if (names_.size() > 8) held += ", ...";
        throw UsageError("activation '" + name + "' is not in the cache (it holds " +
                         std::to_string(names_.size()) + " activations" + (held.empty() ? "" : ": " + held) + ")");
    }
    return values_[it->second];
}

void ActivationCache::clear() {
    names_.clear();
    values_.clear();
    index_.clear();
}

}  // namespace headscope
