// ActivationCache: hook name -> tensor, in the order the forward pass produced them.
#pragma once

#include <ATen/core/Tensor.h>

#include <map>
#include <string>
#include <vector>

#include "headscope/hook_names.hpp"

namespace headscope {

class ActivationCache {
public:
    void insert(const std::string& name, at::Tensor value);
    bool contains(const std::string& name) const { return index_.count(name) != 0; }
    // Throws UsageError naming the missing hook and what the cache holds.
    const at::Tensor& at(const std::string& name) const;
    const at::Tensor& at(HookSite site, int layer = -1) const { return at(hook_name(HookKey{site, layer})); }
    const std::vector<std::string>& names() const { return names_; }
    size_t size() const { return names_.size(); }
    bool empty() const { return names_.empty(); }
    void clear();

private:
    std::vector<std::string> names_;
    std::vector<at::Tensor> values_;
    std::map<std::string, size_t> index_;
};

}  // namespace headscope
